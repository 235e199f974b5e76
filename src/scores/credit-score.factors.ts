import { type DayTotals, dayOf, dayStart } from '../analytics/day-totals.ts';
import type { FactorValues } from './credit-score.model.ts';

/**
 * The windows the factors look at, in UTC days ending with (and including) the day of `now`.
 * Days after that day (SPEC allows transaction_date up to 24 h ahead) count once they arrive.
 */
export const FACTOR_WINDOWS = Object.freeze({
  activeDays: 90,
  balanceDays: 90,
  inflowWeeks: 12,
});

export interface FactorInput {
  /** The user's per-UTC-day statistics, keyed YYYY-MM-DD. */
  readonly days: ReadonlyMap<string, DayTotals>;
  /** Alerts raised for the user in the 30 days before `now`. */
  readonly recentAlerts: number;
  readonly now: Date;
}

const DAY_MS = 86_400_000;
/** Ratios are reported, and scored, at this precision, so a reader can recompute the score. */
const RATIO_SCALE = 10_000n;

const daysBefore = (day: string, today: string): number =>
  Math.round((dayStart(today).getTime() - dayStart(day).getTime()) / DAY_MS);

/** Raw factor values from the statistics; docs/CREDIT-SCORE.md defines each one. */
export function computeFactors(input: FactorInput): FactorValues {
  if (!Number.isInteger(input.recentAlerts) || input.recentAlerts < 0)
    throw new RangeError(`recentAlerts must be a whole number >= 0, got ${input.recentAlerts}`);
  const today = dayOf(input.now);
  // [age in days (0 = today), totals] for every past or present day with a transaction
  const past = [...input.days]
    .filter(([day, totals]) => day <= today && totals.count > 0)
    .map(([day, totals]) => [daysBefore(day, today), totals] as const);

  const oldest = past.reduce((max, [age]) => Math.max(max, age), -1);
  const within = (days: number) => past.filter(([age]) => age < days).map(([, totals]) => totals);
  const balanceDays = within(FACTOR_WINDOWS.balanceDays);
  const currency = dominantCurrency(balanceDays);
  return {
    history_length: Math.max(0, oldest),
    active_days: within(FACTOR_WINDOWS.activeDays).length,
    inflow_regularity: inflowRegularity(past),
    credit_debit_balance: currency === null ? null : creditShare(balanceDays, currency),
    inflow_volatility: currency === null ? null : inflowVolatility(past, currency),
    recent_alerts: input.recentAlerts,
  };
}

/**
 * The currency with the most transactions in the window (ties: alphabetical), or null without any.
 * Amounts are never converted between currencies: the service keeps no exchange rates, and a
 * rate of the day would move the score with the market rather than with the user.
 */
function dominantCurrency(days: readonly DayTotals[]): string | null {
  const counts = new Map<string, number>();
  for (const day of days)
    for (const [code, t] of Object.entries(day.currencies))
      counts.set(code, (counts.get(code) ?? 0) + t.creditCount + t.debitCount);
  let best: [string, number] | null = null;
  for (const [code, n] of counts)
    if (n > 0 && (best === null || n > best[1] || (n === best[1] && code < best[0]))) best = [code, n];
  return best?.[0] ?? null;
}

/** credits / (credits + debits) in one currency: exact bigint sums, divided once at the end. */
function creditShare(days: readonly DayTotals[], currency: string): number | null {
  let credit = 0n;
  let debit = 0n;
  for (const day of days) {
    credit += day.currencies[currency]?.creditTotal ?? 0n;
    debit += day.currencies[currency]?.debitTotal ?? 0n;
  }
  const total = credit + debit;
  if (total === 0n) return null;
  // a share of two exact sums, rounded half up to 4 places; a ratio, not money, so a number is fine
  return Number((credit * RATIO_SCALE * 2n + total) / (total * 2n)) / Number(RATIO_SCALE);
}

/** The week (0 = the 7 days ending today) a day of the given age falls in, if inside the window. */
const weekOf = (age: number): number | null =>
  age < 7 * FACTOR_WINDOWS.inflowWeeks ? Math.floor(age / 7) : null;

/** Share of the last 12 seven-day weeks with at least one credit, in any currency. */
function inflowRegularity(past: readonly (readonly [number, DayTotals])[]): number {
  const weeks = new Set<number>();
  for (const [age, totals] of past) {
    const week = weekOf(age);
    if (week !== null && Object.values(totals.currencies).some((t) => t.creditCount > 0)) weeks.add(week);
  }
  return roundRatio(weeks.size / FACTOR_WINDOWS.inflowWeeks);
}

/**
 * Coefficient of variation (population standard deviation / mean) of the weekly credit totals in
 * `currency`, over the weeks of the window that had credits in it; null when none had. In exact
 * integers: cv^2 = (k * sum(x^2) - sum(x)^2) / sum(x)^2 for the k weekly totals x.
 */
function inflowVolatility(past: readonly (readonly [number, DayTotals])[], currency: string): number | null {
  const weekly = new Map<number, bigint>();
  for (const [age, totals] of past) {
    const week = weekOf(age);
    const credit = totals.currencies[currency]?.creditTotal ?? 0n;
    if (week !== null && credit > 0n) weekly.set(week, (weekly.get(week) ?? 0n) + credit);
  }
  if (weekly.size === 0) return null;
  let sum = 0n;
  let squares = 0n;
  for (const x of weekly.values()) {
    sum += x;
    squares += x * x;
  }
  const scale = RATIO_SCALE * RATIO_SCALE * RATIO_SCALE;
  // the squared ratio exactly to 12 places, then a number: this is a ratio of sums, not money
  const cvSquared =
    Number(((BigInt(weekly.size) * squares - sum * sum) * scale) / (sum * sum)) / Number(scale);
  return roundRatio(Math.sqrt(cvSquared));
}

const roundRatio = (x: number): number => Math.round(x * Number(RATIO_SCALE)) / Number(RATIO_SCALE);
