/**
 * What `npm run bench` measures and how hard, from BENCH_* environment variables. Defaults are a
 * full run sized to finish in reasonable time on the 2-core machine; BENCH_QUICK=1 is a smoke run
 * of a few seconds per target on tiny data (the smoke test uses it).
 */
import { join } from 'node:path';

export type TargetName = 'testbed' | 'embedded';
export type PartName = 'http' | 'drain' | 'lag' | 'tracing';

export interface DatasetSize {
  /** Users besides the tier users. */
  readonly users: number;
  /** Transactions in the dataset, the tier users' included. */
  readonly transactions: number;
  /** One user per entry with exactly that many transactions (analytics tiers, history user). */
  readonly tiers: readonly number[];
}

export interface BenchOptions {
  readonly quick: boolean;
  readonly targets: readonly TargetName[];
  /** What to measure (BENCH_PARTS): the HTTP scenarios, the worker drain, the end-to-end lag, tracing's cost. */
  readonly parts: readonly PartName[];
  readonly durationS: number;
  readonly warmupS: number;
  readonly runs: number;
  readonly connections: number;
  /**
   * BENCH_SCENARIOS: only these of our scenarios, by id (`history*`: every id starting with
   * `history`), with the ceilings they are compared with; null: all.
   */
  readonly scenarios: readonly string[] | null;
  /** The embedded default: one dataset serves every scenario (SQLite uses its indexes). */
  readonly embedded: DatasetSize;
  /**
   * The test bed: FerretDB 1.24 on SQLite scans a whole collection for every query but a
   * leading `_id` (docs/TESTBED.md), so history, create and raw find run on a smaller `pages`
   * database; the analytics tiers live in `analytics` (their reads touch one document).
   */
  readonly testbed: { readonly analytics: DatasetSize; readonly pages: DatasetSize };
  readonly drain: {
    readonly embeddedEvents: number;
    readonly testbedEvents: number;
    readonly deadlineS: number;
  };
  readonly lag: { readonly rate: number; readonly seconds: number; readonly deadlineS: number };
  /** Where BENCHMARKS.md goes (`docs`), and where the raw results, benchmarks.json, go (beside this
   * script, in `results/`); BENCH_OUT_DIR puts both in one directory (the smoke test's). */
  readonly docsDir: string;
  readonly resultsDir: string;
  /** Keep the seeded databases and data directories (for a look afterwards). */
  readonly keep: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

export function benchOptions(env: Env = process.env): BenchOptions {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const int = (name: string, full: number, smoke: number, min = 1): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return quick ? smoke : full;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`${name}=${JSON.stringify(raw)} is invalid: expected an integer >= ${min}`);
    }
    return value;
  };
  const tiers = (name: string, full: string, smoke: string): number[] => {
    const raw = env[name] ?? (quick ? smoke : full);
    const values = raw.split(',').map(Number);
    if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1)) {
      throw new Error(
        `${name}=${JSON.stringify(raw)} is invalid: expected comma-separated positive integers`,
      );
    }
    return values;
  };
  const analyticsTiers = tiers('BENCH_TIERS', '100,10000,100000', '10,100,400');
  return {
    quick,
    targets: names(env.BENCH_TARGETS ?? 'testbed,embedded', 'BENCH_TARGETS', [
      'testbed',
      'embedded',
    ] as const),
    parts: names(env.BENCH_PARTS ?? 'http,drain,lag,tracing', 'BENCH_PARTS', [
      'http',
      'drain',
      'lag',
      'tracing',
    ] as const),
    durationS: int('BENCH_DURATION_S', 10, 1),
    warmupS: int('BENCH_WARMUP_S', 2, 0, 0),
    runs: int('BENCH_RUNS', 3, 1),
    connections: int('BENCH_CONNECTIONS', 10, 4),
    scenarios: env.BENCH_SCENARIOS ? env.BENCH_SCENARIOS.split(',').map((id) => id.trim()) : null,
    embedded: {
      users: int('BENCH_USERS', 10_000, 40),
      transactions: int('BENCH_TRANSACTIONS', 1_000_000, 1_000),
      tiers: analyticsTiers,
    },
    testbed: {
      analytics: {
        users: int('BENCH_TESTBED_USERS', 200, 20),
        transactions: int('BENCH_TESTBED_TRANSACTIONS', 130_100, 700),
        tiers: analyticsTiers,
      },
      pages: {
        users: int('BENCH_TESTBED_PAGE_USERS', 100, 10),
        transactions: int('BENCH_TESTBED_PAGE_TRANSACTIONS', 2_000, 200),
        tiers: tiers('BENCH_TESTBED_PAGE_TIERS', '500', '60'),
      },
    },
    drain: {
      embeddedEvents: int('BENCH_DRAIN_EVENTS', 100_000, 500),
      testbedEvents: int('BENCH_TESTBED_DRAIN_EVENTS', 2_000, 200),
      deadlineS: int('BENCH_DRAIN_DEADLINE_S', 300, 30),
    },
    lag: {
      rate: int('BENCH_LAG_RATE', 500, 50),
      seconds: int('BENCH_LAG_SECONDS', 20, 2),
      deadlineS: int('BENCH_LAG_DEADLINE_S', 30, 15),
    },
    docsDir: env.BENCH_OUT_DIR ?? 'docs',
    resultsDir: env.BENCH_OUT_DIR ?? join('scripts', 'bench', 'results'),
    keep: env.BENCH_KEEP === '1',
  };
}

function names<T extends string>(raw: string, variable: string, known: readonly T[]): T[] {
  const list = raw.split(',').map((s) => s.trim());
  const valid = list.filter((n): n is T => (known as readonly string[]).includes(n));
  if (valid.length === 0 || valid.length !== list.length) {
    throw new Error(
      `${variable}=${JSON.stringify(raw)} is invalid: expected a comma-separated subset of ${known.join(', ')}`,
    );
  }
  return valid;
}
