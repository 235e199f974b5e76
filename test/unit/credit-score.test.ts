import assert from 'node:assert/strict';
import { random } from '../../scripts/bench/dataset.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type AmountRow, type DayTotals, totalsByDay } from '../../src/analytics/day-totals.ts';
import { computeFactors, FACTOR_WINDOWS } from '../../src/scores/credit-score.factors.ts';
import {
  BANDS,
  bandOf,
  CREDIT_SCORE_MODEL_VERSION,
  FACTOR_DIRECTIONS,
  FACTOR_NAMES,
  FACTOR_WEIGHTS,
  type FactorName,
  type FactorValues,
  GOODNESS,
  SCORE_MAX,
  SCORE_MIN,
  scoreOf,
} from '../../src/scores/credit-score.model.ts';

const NOW = new Date('2026-11-15T12:00:00.000Z');
const DAY_MS = 86_400_000;
const USERS = 300;

/** Past every saturation point, in both directions. */
const BEST: FactorValues = {
  history_length: 2000,
  active_days: 90,
  inflow_regularity: 1,
  credit_debit_balance: 1,
  inflow_volatility: 0,
  recent_alerts: 0,
};
const WORST: FactorValues = {
  history_length: 0,
  active_days: 0,
  inflow_regularity: 0,
  credit_debit_balance: null,
  inflow_volatility: null,
  recent_alerts: 9,
};

type Rand = () => number;
const intBelow = (rand: Rand, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: Rand, items: readonly T[]): T => items[intBelow(rand, items.length)] as T;

/** A transaction `age` days before today (0 = today, -1 = tomorrow), at some hour of that UTC day. */
const row = (age: number, type: 'credit' | 'debit', amountMinor: bigint, currency = 'GHS', hour = 10) => ({
  amountMinor,
  currency,
  type,
  transactionDate: new Date(Date.UTC(2026, 10, 15 - age, hour)),
});

interface User {
  readonly rows: AmountRow[];
  readonly recentAlerts: number;
}

/** Users from empty to 400 days of dense activity, one or two currencies, salary-like or lumpy. */
function randomUser(rand: Rand): User {
  const span = intBelow(rand, 400);
  const density = rand() ** 2;
  const creditShare = rand();
  const currencies = rand() < 0.3 ? ['GHS', pick(rand, ['KES', 'UGX', 'USD'])] : [pick(rand, ['GHS', 'KES'])];
  const salary = BigInt(1 + intBelow(rand, 500_000));
  const rows: AmountRow[] = [];
  for (let age = span; age >= -1; age -= 1) {
    if (rand() >= density) continue;
    for (let n = 1 + intBelow(rand, 3); n > 0; n -= 1) {
      const amount = rand() < 0.5 ? salary : BigInt(1 + intBelow(rand, 1_000_000));
      const type = rand() < creditShare ? 'credit' : 'debit';
      rows.push(
        row(age, type, amount, rand() < 0.8 ? currencies[0] : pick(rand, currencies), intBelow(rand, 24)),
      );
    }
  }
  return { rows, recentAlerts: rand() < 0.6 ? 0 : intBelow(rand, 5) };
}

const factorsOf = (rows: Iterable<AmountRow>, recentAlerts = 0): FactorValues =>
  computeFactors({ days: totalsByDay(rows), recentAlerts, now: NOW });

const users = (seed: number): User[] => {
  const rand = random(seed);
  return Array.from({ length: USERS }, () => randomUser(rand));
};

/** A raw value moved in the factor's good direction, staying inside the factor's domain. */
function better(name: FactorName, value: number | null, rand: Rand): number | null {
  switch (name) {
    case 'history_length':
    case 'active_days':
      return (value ?? 0) + intBelow(rand, name === 'active_days' ? 40 : 500);
    case 'inflow_regularity':
      return Math.min(1, (value ?? 0) + intBelow(rand, 13) / 12);
    case 'credit_debit_balance':
      return value === null ? rand() : value + (1 - value) * rand();
    case 'inflow_volatility':
      return value === null ? rand() * 3 : value * rand();
    case 'recent_alerts':
      return value === null ? 0 : value - intBelow(rand, value + 1);
  }
}

/** Anything a factor can be, nulls and values past the saturation points included. */
function randomValues(rand: Rand): FactorValues {
  const maybe = (x: number) => (rand() < 0.15 ? null : x);
  return {
    history_length: intBelow(rand, 800),
    active_days: intBelow(rand, 91),
    inflow_regularity: intBelow(rand, 13) / 12,
    credit_debit_balance: maybe(rand()),
    inflow_volatility: maybe(rand() * 3),
    recent_alerts: intBelow(rand, 6),
  };
}

describe('credit score: improving one factor never lowers the score', () => {
  const rand = random(42);
  const starts = [
    ...users(1).map((u) => factorsOf(u.rows, u.recentAlerts)),
    ...users(2).map(() => randomValues(rand)),
  ];

  for (const name of FACTOR_NAMES) {
    it(`${name} (${FACTOR_DIRECTIONS[name]}), all other factors fixed, ${starts.length} users`, () => {
      for (const values of starts) {
        for (let trial = 0; trial < 5; trial += 1) {
          const moved = { ...values, [name]: better(name, values[name], rand) };
          const context = `${name}: ${JSON.stringify(values)} -> ${String(moved[name])}`;
          assert.ok(GOODNESS[name](moved[name]) >= GOODNESS[name](values[name]), context);
          assert.ok(scoreOf(moved).score >= scoreOf(values).score, context);
        }
      }
    });
  }

  it('every factor matters: from its worst to its best value moves the score by its weight of 550 points', () => {
    for (const values of starts)
      for (const name of FACTOR_NAMES) {
        const gain =
          scoreOf({ ...values, [name]: BEST[name] }).score -
          scoreOf({ ...values, [name]: WORST[name] }).score;
        assert.ok(Math.abs(gain - 550 * FACTOR_WEIGHTS[name]) <= 1, `${name}: ${gain}`);
      }
  });
});

describe('credit score: scale, bands and contributions', () => {
  it('weights cover every factor and sum to 1', () => {
    assert.deepEqual(Object.keys(FACTOR_WEIGHTS).sort(), [...FACTOR_NAMES].sort());
    const sum = FACTOR_NAMES.reduce((total, name) => total + FACTOR_WEIGHTS[name], 0);
    assert.ok(Math.abs(sum - 1) < 1e-12, String(sum));
  });

  it('bands meet at their exact boundaries and nothing outside 300-850 has one', () => {
    const cases: [number, string][] = [
      [300, 'poor'],
      [579, 'poor'],
      [580, 'fair'],
      [669, 'fair'],
      [670, 'good'],
      [739, 'good'],
      [740, 'very_good'],
      [799, 'very_good'],
      [800, 'excellent'],
      [850, 'excellent'],
    ];
    for (const [score, band] of cases) assert.equal(bandOf(score), band, String(score));
    for (const score of [299, 851, 600.5]) assert.throws(() => bandOf(score), RangeError);
  });

  it('the best possible user scores 850 and the worst 300', () => {
    const best = scoreOf(BEST);
    assert.deepEqual([best.score, best.band], [SCORE_MAX, 'excellent']);
    const worst = scoreOf(WORST);
    assert.deepEqual([worst.score, worst.band], [SCORE_MIN, 'poor']);
  });

  it('every random user gets a whole score in 300-850, its band, and contributions that add up to score - 300', () => {
    const rand = random(7);
    const all = [
      ...users(3).map((u) => factorsOf(u.rows, u.recentAlerts)),
      ...users(4).map(() => randomValues(rand)),
    ];
    for (const values of all) {
      const result = scoreOf(values);
      assert.ok(Number.isInteger(result.score) && result.score >= SCORE_MIN && result.score <= SCORE_MAX);
      assert.equal(result.band, bandOf(result.score));
      assert.deepEqual(
        result.factors.map((f) => f.name),
        [...FACTOR_NAMES],
      );
      assert.equal(
        result.factors.reduce((sum, f) => sum + f.contribution, 0),
        result.score - SCORE_MIN,
      );
      for (const f of result.factors) {
        assert.ok(Number.isInteger(f.contribution) && f.contribution >= 0, JSON.stringify(f));
        assert.ok(f.contribution <= Math.ceil(550 * FACTOR_WEIGHTS[f.name]), JSON.stringify(f));
        assert.equal(f.value, values[f.name]);
      }
    }
  });
});

describe('credit score: factors from the statistics', () => {
  const weekly = (type: 'credit' | 'debit', amounts: readonly bigint[]) =>
    amounts.map((amount, week) => row(7 * week, type, amount));

  it('one equal credit a week for 12 weeks: regular, steady, all inflow', () => {
    assert.deepEqual(factorsOf(weekly('credit', Array<bigint>(12).fill(10_000n)), 0), {
      history_length: 77,
      active_days: 12,
      inflow_regularity: 1,
      credit_debit_balance: 1,
      inflow_volatility: 0,
      recent_alerts: 0,
    });
  });

  it('only debits: balance 0, no inflow to be regular or volatile', () => {
    const values = factorsOf(weekly('debit', [500n, 700n, 900n]));
    assert.deepEqual(
      [values.credit_debit_balance, values.inflow_regularity, values.inflow_volatility],
      [0, 0, null],
    );
  });

  it('balance is credits / (credits + debits) of exact sums; volatility the spread of weekly inflow', () => {
    const values = factorsOf([
      row(0, 'credit', 10_000n),
      row(8, 'credit', 30_000n),
      row(1, 'debit', 10_000n),
      row(2, 'debit', 3_333n),
    ]);
    assert.equal(values.credit_debit_balance, 0.75); // 40000 / 53333 = 0.75001 -> 0.75
    assert.equal(values.inflow_volatility, 0.5); // weeks of 100 and 300: mean 200, deviation 100
    assert.equal(values.inflow_regularity, 0.1667); // 2 of 12 weeks
    assert.equal(factorsOf([row(0, 'credit', 1n), row(0, 'debit', 2n)]).credit_debit_balance, 0.3333);
  });

  it('windows: 90 days of activity, 12 weeks of inflow, history to the first transaction; later days wait', () => {
    const values = factorsOf([
      row(89, 'credit', 1n),
      row(90, 'credit', 1n),
      row(83, 'credit', 1n),
      row(300, 'debit', 1n),
      row(-1, 'credit', 1n),
    ]);
    assert.equal(values.history_length, 300);
    assert.equal(values.active_days, 2); // 89 and 83 days ago; 90 is outside, tomorrow not yet
    assert.equal(values.inflow_regularity, 0.0833); // 83 days ago is week 11; 89 and 90 are past week 11
    assert.equal(7 * FACTOR_WINDOWS.inflowWeeks, 84);
  });

  it('balance and volatility use the currency with most transactions, never converting amounts', () => {
    const usdCredit = row(1, 'credit', 99_999_999n, 'USD');
    const ghsDebits = [row(1, 'debit', 100n), row(2, 'debit', 100n)];
    assert.equal(factorsOf([usdCredit, ...ghsDebits]).credit_debit_balance, 0);
    // a tie goes to the alphabetically first code
    assert.equal(
      factorsOf([row(1, 'credit', 5n, 'KES'), row(1, 'debit', 5n, 'GHS')]).credit_debit_balance,
      0,
    );
  });

  it('a user with no transactions: floor values, and the formula still answers', () => {
    const values = factorsOf([]);
    assert.deepEqual(values, {
      history_length: 0,
      active_days: 0,
      inflow_regularity: 0,
      credit_debit_balance: null,
      inflow_volatility: null,
      recent_alerts: 0,
    });
    const result = scoreOf(values);
    assert.deepEqual(
      result.factors.filter((f) => f.contribution > 0).map((f) => f.name),
      ['recent_alerts'],
    );
  });

  it('days whose transactions were all deleted do not count', () => {
    const days = new Map<string, DayTotals>([['2026-11-10', { count: 0, currencies: {} }]]);
    assert.equal(computeFactors({ days, recentAlerts: 0, now: NOW }).history_length, 0);
  });

  it('alerts lower the score, down to nothing from this factor at 3', () => {
    const rows = weekly('credit', [5_000n, 6_000n, 5_500n, 7_000n]);
    const scores = [0, 1, 2, 3, 4].map((alerts) => scoreOf(factorsOf(rows, alerts)));
    assert.ok(scores.every((s, i) => i === 0 || s.score <= (scores[i - 1]?.score ?? 0)));
    assert.ok((scores[0]?.score ?? 0) > (scores[1]?.score ?? 0));
    assert.equal(scores[3]?.factors.find((f) => f.name === 'recent_alerts')?.contribution, 0);
    assert.throws(() => computeFactors({ days: new Map(), recentAlerts: -1, now: NOW }), RangeError);
  });
});

/** The test's own reading of the rules: the 90-day dominant currency and its weekly inflows. */
function usualInflow(rows: readonly AmountRow[]): {
  currency: string;
  weeks: Set<number>;
  amount: bigint | null;
} {
  const dayNumber = (t: number) => Math.floor(t / DAY_MS);
  const recent = rows
    .map((r) => ({ r, age: dayNumber(NOW.getTime()) - dayNumber(r.transactionDate.getTime()) }))
    .filter(({ age }) => age >= 0 && age < 90);
  const counts = new Map<string, number>();
  for (const { r } of recent) counts.set(r.currency, (counts.get(r.currency) ?? 0) + 1);
  const currency = [...counts].sort(([a, n], [b, m]) => m - n || (a < b ? -1 : 1))[0]?.[0] ?? 'GHS';
  const weeks = new Set<number>();
  const inflow = new Map<number, bigint>();
  for (const { r, age } of recent) {
    if (r.type !== 'credit' || age >= 84) continue;
    weeks.add(Math.floor(age / 7));
    if (r.currency === currency)
      inflow.set(Math.floor(age / 7), (inflow.get(Math.floor(age / 7)) ?? 0n) + r.amountMinor);
  }
  const k = BigInt(inflow.size);
  const sum = [...inflow.values()].reduce((a, b) => a + b, 0n);
  return { currency, weeks, amount: k === 0n ? null : (sum + k / 2n) / k };
}

describe('credit score: monotone in the data itself', () => {
  it('one more week with the usual inflow never lowers the score', () => {
    const rand = random(11);
    let checked = 0;
    for (const user of users(5)) {
      const { currency, weeks, amount } = usualInflow(user.rows);
      const empty = Array.from({ length: 12 }, (_, w) => w).filter((w) => !weeks.has(w));
      if (empty.length === 0) continue;
      const week = pick(rand, empty);
      const extra = row(
        7 * week + intBelow(rand, 7),
        'credit',
        amount ?? BigInt(1 + intBelow(rand, 100_000)),
        currency,
        intBelow(rand, 24),
      );
      const before = factorsOf(user.rows, user.recentAlerts);
      const after = factorsOf([...user.rows, extra], user.recentAlerts);
      const context = `${JSON.stringify(before)} + week ${week} -> ${JSON.stringify(after)}`;
      assert.ok((after.inflow_regularity ?? 0) > (before.inflow_regularity ?? 0), context);
      assert.ok(scoreOf(after).score >= scoreOf(before).score, context);
      checked += 1;
    }
    assert.ok(checked > USERS / 2, `only ${checked} users had a week without inflow`);
  });

  it('one more recent alert never raises the score', () => {
    for (const user of users(6)) {
      const days = totalsByDay(user.rows);
      const score = (recentAlerts: number) => scoreOf(computeFactors({ days, recentAlerts, now: NOW })).score;
      assert.ok(score(user.recentAlerts + 1) <= score(user.recentAlerts));
    }
  });
});

describe('credit score: docs/CREDIT-SCORE.md stays true', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'CREDIT-SCORE.md'), 'utf8');
  const tableRow = (first: string) =>
    doc
      .split('\n')
      .find((line) => line.startsWith(`| ${first} `))
      ?.split('|')
      .map((cell) => cell.trim());

  it('names the model version, and every factor with its weight and direction', () => {
    assert.ok(doc.includes(`**\`${CREDIT_SCORE_MODEL_VERSION}\`**`));
    for (const name of FACTOR_NAMES) {
      const cells = tableRow(`\`${name}\``);
      assert.equal(Number(cells?.[5]), FACTOR_WEIGHTS[name], name);
      assert.equal(cells?.[6]?.replaceAll(' ', '_'), FACTOR_DIRECTIONS[name], name);
    }
  });

  it('gives the bands as the code draws them', () => {
    for (const { band, min, max } of BANDS) assert.equal(tableRow(`\`${band}\``)?.[2], `${min}-${max}`, band);
  });

  it('its worked example is what the code computes', () => {
    const rows = [row(198, 'credit', 30_000n), row(30, 'debit', 1_500n, 'USD')];
    const weeks: [number, bigint][] = [
      [0, 50_000n],
      [1, 50_000n],
      [2, 45_000n],
      [4, 50_000n],
      [5, 50_000n],
      [6, 80_000n],
      [8, 50_000n],
      [9, 45_000n],
      [11, 50_000n],
    ];
    for (const [week, amount] of weeks) rows.push(row(7 * week + 2, 'credit', amount));
    for (let i = 0; i < 18; i += 1) rows.push(row(1 + 5 * i, 'debit', 22_000n));
    const values = factorsOf(rows, 1);
    assert.deepEqual(values, {
      history_length: 198,
      active_days: 26,
      inflow_regularity: 0.75,
      credit_debit_balance: 0.5427,
      inflow_volatility: 0.1921,
      recent_alerts: 1,
    });
    const result = scoreOf(values);
    assert.deepEqual([result.score, result.band], [713, 'good']);
    assert.deepEqual(
      result.factors.map((f) => f.contribution),
      [45, 72, 103, 94, 44, 55],
    );
    assert.equal(scoreOf({ ...values, recent_alerts: 0 }).score, 741);
    assert.ok(doc.includes('= 713`, band `good`'));
  });
});
