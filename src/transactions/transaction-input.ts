import { validationFailed, type FieldError } from '../errors.ts';
import { convertMinor, parseAmount } from '../money/amount.ts';
import { isKnownCurrency } from '../money/currencies.ts';
import type { TransactionFields, TransactionType } from './transaction.ts';

/** The raw body after schema validation ran (possibly with errors, all reported together). */
export interface BodyInput {
  readonly body: unknown;
  readonly schemaErrors: readonly FieldError[];
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/i;
const MAX_FUTURE_MS = 24 * 3_600_000;
const MAX_NAME_LENGTH = 200;

type Body = Readonly<Record<string, unknown>>;

/**
 * Builds the next field values from a body: for create every field comes from the body, for PUT
 * the body replaces all mutable fields, for PATCH (merge patch) absent fields keep `current`.
 * Collects every semantic problem (and the schema's) before failing, so a client sees all at once.
 */
export function resolveFields(
  input: BodyInput,
  current: TransactionFields | null,
  mode: 'create' | 'replace' | 'patch',
  defaultCurrency: string,
  now: Date,
): TransactionFields {
  const errors = [...input.schemaErrors];
  const failed = new Set(errors.map((e) => e.pointer));
  const body: Body = typeof input.body === 'object' && input.body !== null ? (input.body as Body) : {};
  const fail = (pointer: string, message: string): void => {
    if (failed.has(pointer)) return;
    failed.add(pointer);
    errors.push({ pointer, message });
  };
  const given = (field: string): string | undefined => {
    const value = body[field];
    return typeof value === 'string' && !failed.has(`/${field}`) ? value : undefined;
  };

  const userId = given('user_id');
  if (current !== null && userId !== undefined && userId !== current.userId) {
    fail('/user_id', 'cannot be changed');
  }

  const name = given('full_name')?.trim();
  // JSON can carry a lone surrogate (\ud800); sealing encodes UTF-8, which would store U+FFFD instead
  if (name !== undefined && !name.isWellFormed()) {
    fail('/full_name', 'must be valid Unicode text (it contains a lone surrogate)');
  }
  if (name !== undefined && (name.length === 0 || name.length > MAX_NAME_LENGTH)) {
    fail('/full_name', `must be 1-${MAX_NAME_LENGTH} characters after trimming`);
  }

  const dateText = given('transaction_date');
  const date = dateText === undefined ? undefined : parseDateTime(dateText);
  if (dateText !== undefined && date === null) {
    fail('/transaction_date', 'must be an ISO 8601 date-time with offset, e.g. 2024-10-05T10:00:00Z');
  } else if (date && date.getTime() > now.getTime() + MAX_FUTURE_MS) {
    fail('/transaction_date', 'must not be more than 24 hours in the future');
  }

  const keepsCurrent = mode === 'patch' && current !== null;
  const currency = given('transaction_currency') ?? (keepsCurrent ? current.currency : defaultCurrency);
  if (!isKnownCurrency(currency)) fail('/transaction_currency', 'is not a currency this service accepts');

  const amountText = given('transaction_amount');
  let amountMinor = keepsCurrent ? current.amountMinor : undefined;
  if (amountText !== undefined && isKnownCurrency(currency)) {
    const parsed = parseAmount(amountText, currency);
    if (parsed.ok) amountMinor = parsed.minor;
    else fail('/transaction_amount', parsed.message);
  } else if (
    amountText === undefined &&
    keepsCurrent &&
    currency !== current.currency &&
    isKnownCurrency(currency)
  ) {
    // a currency change alone keeps the decimal value, which must fit the new minor units
    amountMinor = convertMinor(current.amountMinor, current.currency, currency) ?? undefined;
    if (amountMinor === undefined) fail('/transaction_amount', `does not fit the minor units of ${currency}`);
  }

  if (errors.length > 0) throw validationFailed(errors);
  const pick = <T>(value: T | undefined, fallback: T | undefined): T => {
    const chosen = value ?? fallback;
    if (chosen === undefined) throw new Error('schema let a required field through');
    return chosen;
  };
  return {
    userId: pick(userId, current?.userId),
    fullName: pick(name, keepsCurrent ? current.fullName : undefined),
    transactionDate: pick(date ?? undefined, keepsCurrent ? current.transactionDate : undefined),
    amountMinor: pick(amountMinor, undefined),
    currency,
    type: pick(
      given('transaction_type') as TransactionType | undefined,
      keepsCurrent ? current.type : undefined,
    ),
  };
}

/** Strict ISO 8601 with an offset; rejects impossible calendar dates such as 2024-02-30. */
export function parseDateTime(text: string): Date | null {
  const m = DATE_TIME.exec(text);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s = '0'] = m;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return null;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const valid =
    year >= 1900 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    Number(h) <= 23 &&
    Number(mi) <= 59 &&
    Number(s) <= 59;
  return valid ? date : null;
}
