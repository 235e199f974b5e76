/**
 * The credit-score model: raw factor values -> goodness in [0, 1] -> points on 300-850 -> band.
 * docs/CREDIT-SCORE.md explains every number here; change one and the other together, and bump
 * CREDIT_SCORE_MODEL_VERSION so a stored or delivered score always names the model that made it.
 * Nothing here is money: factor values are counts, shares and ratios derived from exact sums.
 */

/** Bumped on any change of a weight, a goodness mapping, a window or a band boundary. */
export const CREDIT_SCORE_MODEL_VERSION = '2026-11.1';

export const SCORE_MIN = 300;
export const SCORE_MAX = 850;
const SPAN = SCORE_MAX - SCORE_MIN;

export const FACTOR_NAMES = [
  'history_length',
  'active_days',
  'inflow_regularity',
  'credit_debit_balance',
  'inflow_volatility',
  'recent_alerts',
] as const;
export type FactorName = (typeof FACTOR_NAMES)[number];

/**
 * Raw values, as computeFactors derives them and as the API reports them. null means "no data in
 * the factor's window" (a balance without transactions, a volatility without inflows) and earns
 * the factor nothing.
 */
export type FactorValues = Readonly<Record<FactorName, number | null>>;

/** Share of the 550 points each factor can earn; they sum to 1 (a unit test holds them to it). */
export const FACTOR_WEIGHTS: Readonly<Record<FactorName, number>> = Object.freeze({
  history_length: 0.15,
  active_days: 0.15,
  inflow_regularity: 0.25,
  credit_debit_balance: 0.2,
  inflow_volatility: 0.1,
  recent_alerts: 0.15,
});

export type Direction = 'higher_is_better' | 'lower_is_better';

export const FACTOR_DIRECTIONS: Readonly<Record<FactorName, Direction>> = Object.freeze({
  history_length: 'higher_is_better',
  active_days: 'higher_is_better',
  inflow_regularity: 'higher_is_better',
  credit_debit_balance: 'higher_is_better',
  inflow_volatility: 'lower_is_better',
  recent_alerts: 'lower_is_better',
});

/** Where each goodness mapping saturates; see docs/CREDIT-SCORE.md for why these numbers. */
export const GOODNESS_BOUNDS = Object.freeze({
  historyFullDays: 365,
  activeFullDays: 30,
  balanceZeroAt: 0.2,
  balanceFullAt: 0.6,
  volatilityZeroAt: 1,
  alertsZeroAt: 3,
});

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));
const ramp = (x: number, zeroAt: number, fullAt: number): number => clamp01((x - zeroAt) / (fullAt - zeroAt));

/** Each factor's monotone, piecewise-linear map from raw value to goodness in [0, 1]. */
export const GOODNESS: Readonly<Record<FactorName, (value: number | null) => number>> = Object.freeze({
  history_length: (days) => ramp(days ?? 0, 0, GOODNESS_BOUNDS.historyFullDays),
  active_days: (days) => ramp(days ?? 0, 0, GOODNESS_BOUNDS.activeFullDays),
  inflow_regularity: (share) => clamp01(share ?? 0),
  credit_debit_balance: (share) =>
    share === null ? 0 : ramp(share, GOODNESS_BOUNDS.balanceZeroAt, GOODNESS_BOUNDS.balanceFullAt),
  inflow_volatility: (cv) => (cv === null ? 0 : 1 - ramp(cv, 0, GOODNESS_BOUNDS.volatilityZeroAt)),
  recent_alerts: (alerts) => 1 - ramp(alerts ?? 0, 0, GOODNESS_BOUNDS.alertsZeroAt),
});

export const BANDS = [
  { band: 'poor', min: 300, max: 579 },
  { band: 'fair', min: 580, max: 669 },
  { band: 'good', min: 670, max: 739 },
  { band: 'very_good', min: 740, max: 799 },
  { band: 'excellent', min: 800, max: 850 },
] as const;
export type Band = (typeof BANDS)[number]['band'];

export function bandOf(score: number): Band {
  const found = BANDS.find((b) => score >= b.min && score <= b.max);
  if (found === undefined || !Number.isInteger(score)) throw new RangeError(`no band for score ${score}`);
  return found.band;
}

export interface FactorContribution {
  readonly name: FactorName;
  readonly value: number | null;
  /** Whole points this factor adds above 300; all contributions sum to score - 300. */
  readonly contribution: number;
}

export interface CreditScore {
  readonly score: number;
  readonly band: Band;
  readonly factors: readonly FactorContribution[];
}

/**
 * score = 300 + round(550 * sum of weight * goodness). Each factor's exact share is floored and the
 * points lost to flooring go, one each, to the largest remainders (ties: the order of FACTOR_NAMES),
 * so the whole-point contributions add up to the score exactly. The score itself is a monotone
 * function of every goodness; a single contribution may shift by one point when another factor moves.
 */
export function scoreOf(values: FactorValues): CreditScore {
  const exact = FACTOR_NAMES.map((name) => SPAN * FACTOR_WEIGHTS[name] * GOODNESS[name](values[name]));
  const points = Math.min(SPAN, Math.round(exact.reduce((sum, x) => sum + x, 0)));
  const floors = exact.map(Math.floor);
  let left = points - floors.reduce((sum, x) => sum + x, 0);
  const byRemainder = exact
    .map((x, index) => ({ index, remainder: x - Math.floor(x) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  const contributions = [...floors];
  for (const { index } of byRemainder) {
    if (left <= 0) break;
    contributions[index] = (contributions[index] ?? 0) + 1;
    left -= 1;
  }
  const score = SCORE_MIN + points;
  return {
    score,
    band: bandOf(score),
    factors: FACTOR_NAMES.map((name, index) => ({
      name,
      value: values[name],
      contribution: contributions[index] ?? 0,
    })),
  };
}
