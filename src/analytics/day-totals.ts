import type { TransactionType } from '../transactions/transaction.ts';

/** Money per currency and direction on one UTC day: what the statistics keep per user. */
export interface CurrencyTotals {
  readonly creditCount: number;
  readonly creditTotal: bigint;
  readonly debitCount: number;
  readonly debitTotal: bigint;
}

export interface DayTotals {
  readonly count: number;
  readonly currencies: Readonly<Record<string, CurrencyTotals>>;
}

/** The money-relevant part of a stored transaction. */
export interface AmountRow {
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly type: TransactionType;
  readonly transactionDate: Date;
}

const DAY_MS = 86_400_000;

/** UTC calendar day of an instant, as YYYY-MM-DD. */
export const dayOf = (date: Date): string => date.toISOString().slice(0, 10);

export const dayStart = (day: string): Date => new Date(`${day}T00:00:00.000Z`);
export const nextDay = (day: string): Date => new Date(dayStart(day).getTime() + DAY_MS);

/** Folds rows into per-day totals: the one definition used by the worker, reconciliation and fallback. */
export function totalsByDay(rows: Iterable<AmountRow>): Map<string, DayTotals> {
  const days = new Map<string, { count: number; currencies: Record<string, CurrencyTotals> }>();
  for (const row of rows) {
    const key = dayOf(row.transactionDate);
    const day = days.get(key) ?? { count: 0, currencies: {} };
    const before = day.currencies[row.currency] ?? {
      creditCount: 0,
      creditTotal: 0n,
      debitCount: 0,
      debitTotal: 0n,
    };
    day.currencies[row.currency] =
      row.type === 'credit'
        ? {
            ...before,
            creditCount: before.creditCount + 1,
            creditTotal: before.creditTotal + row.amountMinor,
          }
        : { ...before, debitCount: before.debitCount + 1, debitTotal: before.debitTotal + row.amountMinor };
    day.count += 1;
    days.set(key, day);
  }
  return days;
}

export function sameDay(a: DayTotals | undefined, b: DayTotals | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const currencies = new Set([...Object.keys(a.currencies), ...Object.keys(b.currencies)]);
  if (a.count !== b.count) return false;
  for (const currency of currencies) {
    const x = a.currencies[currency];
    const y = b.currencies[currency];
    if (
      x === undefined ||
      y === undefined ||
      x.creditCount !== y.creditCount ||
      x.creditTotal !== y.creditTotal ||
      x.debitCount !== y.debitCount ||
      x.debitTotal !== y.debitTotal
    ) {
      return false;
    }
  }
  return true;
}
