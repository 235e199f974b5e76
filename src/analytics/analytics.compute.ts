import { formatAmount } from '../money/amount.ts';
import type { CurrencyTotals, DayTotals } from './day-totals.ts';
import type { AnalyticsResponse } from './analytics.schemas.ts';

export interface AnalyticsInput {
  readonly userId: string;
  readonly days: ReadonlyMap<string, DayTotals>;
  /** Inclusive YYYY-MM-DD bounds, or null for open ends. */
  readonly from: string | null;
  readonly to: string | null;
  readonly asOf: Date;
  readonly defaultCurrency: string;
}

/**
 * SPEC "Analytics response" from per-day totals: O(days in the user's statistics), whatever the
 * number of transactions. Averages are exact integer division of minor units, rounded half to even.
 */
export function buildAnalytics(input: AnalyticsInput): AnalyticsResponse {
  const inRange = [...input.days].filter(
    ([day]) => (input.from === null || day >= input.from) && (input.to === null || day <= input.to),
  );
  const perCurrency = new Map<
    string,
    { credit: CurrencyTotals['creditTotal']; creditCount: number; debit: bigint; debitCount: number }
  >();
  let count = 0;
  let busiest: { date: string; transaction_count: number } | null = null;
  for (const [day, totals] of inRange) {
    if (totals.count === 0) continue;
    count += totals.count;
    // ties go to the most recent day
    if (
      busiest === null ||
      totals.count > busiest.transaction_count ||
      (totals.count === busiest.transaction_count && day > busiest.date)
    ) {
      busiest = { date: day, transaction_count: totals.count };
    }
    for (const [currency, t] of Object.entries(totals.currencies)) {
      const acc = perCurrency.get(currency) ?? { credit: 0n, creditCount: 0, debit: 0n, debitCount: 0 };
      acc.credit += t.creditTotal;
      acc.creditCount += t.creditCount;
      acc.debit += t.debitTotal;
      acc.debitCount += t.debitCount;
      perCurrency.set(currency, acc);
    }
  }
  const by_currency = [...perCurrency]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([currency, acc]) => {
      const n = acc.creditCount + acc.debitCount;
      return {
        currency,
        transaction_count: n,
        average_transaction_value:
          n === 0 ? null : formatAmount(divideHalfEven(acc.credit + acc.debit, BigInt(n)), currency),
        credit: { count: acc.creditCount, total: formatAmount(acc.credit, currency) },
        debit: { count: acc.debitCount, total: formatAmount(acc.debit, currency) },
      };
    });
  const single = by_currency.length === 1 ? by_currency[0] : undefined;
  const zeroCurrency = soleCurrency(input.days) ?? input.defaultCurrency;
  const none = by_currency.length === 0;
  return {
    user_id: input.userId,
    from: input.from,
    to: input.to,
    transaction_count: count,
    day_with_most_transactions: busiest,
    currency: single?.currency ?? (none ? zeroCurrency : null),
    average_transaction_value: single?.average_transaction_value ?? null,
    total_credit: single?.credit.total ?? (none ? formatAmount(0n, zeroCurrency) : null),
    total_debit: single?.debit.total ?? (none ? formatAmount(0n, zeroCurrency) : null),
    by_currency,
    as_of: input.asOf.toISOString(),
  };
}

/** The one currency a user ever used, so an empty period shows zero in it ("0.00" vs "0"). */
function soleCurrency(days: ReadonlyMap<string, DayTotals>): string | undefined {
  const seen = new Set<string>();
  for (const totals of days.values())
    for (const currency of Object.keys(totals.currencies)) seen.add(currency);
  return seen.size === 1 ? [...seen][0] : undefined;
}

/** Round-half-to-even quotient of non-negative integers. */
export function divideHalfEven(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  const twice = (numerator % denominator) * 2n;
  if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) return quotient + 1n;
  return quotient;
}
