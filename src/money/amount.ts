import { minorDigits } from './currencies.ts';

/** The largest amount accepted, in major units (SPEC: at most 10^12). */
export const MAX_MAJOR_UNITS = 10n ** 12n;

/** The shape of an amount as a client may send it: a JSON number's source text or a string. */
const DECIMAL = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

export type AmountResult =
  { readonly ok: true; readonly minor: bigint } | { readonly ok: false; readonly message: string };

/**
 * Parses a decimal amount exactly into integer minor units of `currency`. The input is the text
 * of the number as the client wrote it (JSON numbers reach here as their source text), so no
 * binary floating point is ever involved.
 */
export function parseAmount(text: string, currency: string): AmountResult {
  const match = DECIMAL.exec(text);
  if (match === null) {
    const negative = text.startsWith('-') && DECIMAL.test(text.slice(1));
    return {
      ok: false,
      message: negative ? 'must be greater than 0' : 'must be a positive decimal number, e.g. "475.66"',
    };
  }
  const [, whole = '', written = '', exponentText] = match;
  const exponent = Number(exponentText ?? '0');
  if (Math.abs(exponent) > 40) return { ok: false, message: 'is out of range' };
  // value = digits * 10^-(fractionDigits)
  const digits = BigInt(whole + written);
  const fractionDigits = written.length - exponent;
  const allowed = minorDigits(currency);
  const scale = allowed - fractionDigits;
  // Plain decimals are judged as written ("1.500" has three places); exponent forms by value.
  const tooPrecise = scale < 0 && (exponentText === undefined || digits % 10n ** BigInt(-scale) !== 0n);
  if (tooPrecise) {
    const message =
      allowed === 0
        ? `must be a whole number for ${currency}`
        : `must have at most ${allowed} decimal place${allowed === 1 ? '' : 's'} for ${currency}`;
    return { ok: false, message };
  }
  const minor = scale >= 0 ? digits * 10n ** BigInt(scale) : digits / 10n ** BigInt(-scale);
  if (minor <= 0n) return { ok: false, message: 'must be greater than 0' };
  if (minor > MAX_MAJOR_UNITS * 10n ** BigInt(allowed))
    return { ok: false, message: 'must be at most 10^12' };
  return { ok: true, minor };
}

/** Minor units back to the canonical decimal string of the currency, e.g. 47566n GHS -> "475.66". */
export function formatAmount(minor: bigint, currency: string): string {
  const digits = minorDigits(currency);
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  if (digits === 0) return `${negative ? '-' : ''}${abs}`;
  const text = abs.toString().padStart(digits + 1, '0');
  const cut = text.length - digits;
  return `${negative ? '-' : ''}${text.slice(0, cut)}.${text.slice(cut)}`;
}

/** The same decimal value in another currency's minor units; null when it needs more digits. */
export function convertMinor(minor: bigint, from: string, to: string): bigint | null {
  const shift = minorDigits(to) - minorDigits(from);
  if (shift >= 0) return minor * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  return minor % divisor === 0n ? minor / divisor : null;
}
