/**
 * ISO 4217 currencies the service accepts, with their minor-unit digits. Kept to the markets Fido
 * serves and the usual settlement currencies; adding one is a one-line change.
 */
export const CURRENCY_MINOR_DIGITS: Readonly<Record<string, number>> = Object.freeze({
  GHS: 2, // Ghana cedi
  NGN: 2, // Nigerian naira
  KES: 2, // Kenyan shilling
  UGX: 0, // Ugandan shilling
  TZS: 2, // Tanzanian shilling
  RWF: 0, // Rwandan franc
  ZMW: 2, // Zambian kwacha
  XOF: 0, // West African CFA franc
  XAF: 0, // Central African CFA franc
  ZAR: 2, // South African rand
  EGP: 2, // Egyptian pound
  MAD: 2, // Moroccan dirham
  USD: 2,
  EUR: 2,
  GBP: 2,
});

export function isKnownCurrency(code: string): boolean {
  return Object.hasOwn(CURRENCY_MINOR_DIGITS, code);
}

export function minorDigits(code: string): number {
  const digits = CURRENCY_MINOR_DIGITS[code];
  if (digits === undefined) throw new Error(`unknown currency ${code}`);
  return digits;
}
