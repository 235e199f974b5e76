import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { createKeyring, parseKeys, type Keyring } from '../../src/crypto/keyring.ts';
import type { BenchOptions } from './bench-config.ts';
import type { SeedUser } from './dataset.ts';
import type { DrainResult } from './drain-bench.ts';
import type { ScenarioOutcome } from './http-bench.ts';
import type { LagResult } from './lag-bench.ts';
import type { ScenarioUsers } from './scenarios.ts';

/** What every target of one run shares: secrets, the service token, names unique to the run. */
export interface RunContext {
  readonly options: BenchOptions;
  readonly runId: string;
  /** Logs, bodies and the embedded data directories of this run (removed unless BENCH_KEEP=1). */
  readonly workDir: string;
  readonly keyring: Keyring;
  readonly encryptionKeys: string;
  readonly jwtSecret: string;
  /** A service token (scope `service`), as Fido's other systems call the API. */
  readonly token: string;
  readonly now: Date;
}

export interface DatasetReport {
  readonly users: number;
  readonly transactions: number;
  readonly tiers: readonly number[];
  readonly seedSeconds: number;
}

export function datasetReport(
  seed: { readonly users: number; readonly transactions: number; readonly seconds: number },
  tiers: readonly number[],
): DatasetReport {
  return { users: seed.users, transactions: seed.transactions, tiers, seedSeconds: seed.seconds };
}

export interface TargetResult {
  readonly name: string;
  readonly conditions: readonly string[];
  readonly datasets: Readonly<Record<string, DatasetReport>>;
  readonly http: readonly ScenarioOutcome[];
  /** null when BENCH_PARTS leaves it out. */
  readonly drain: DrainResult | null;
  readonly lag: LagResult | null;
}

export async function createContext(options: BenchOptions): Promise<RunContext> {
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const workDir = join(tmpdir(), `fido-bench-${runId}`);
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const encryptionKeys = `bench:${randomBytes(32).toString('base64')}`;
  const jwtSecret = randomBytes(32).toString('base64url');
  const token = await new SignJWT({ scope: 'service' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('fido-bench')
    .setIssuedAt()
    .setExpirationTime('12h')
    .sign(new TextEncoder().encode(jwtSecret));
  const keyring = createKeyring(parseKeys(encryptionKeys));
  return { options, runId, workDir, keyring, encryptionKeys, jwtSecret, token, now: new Date() };
}

/**
 * Settings of every service child: the service as deployed (LOG_LEVEL=info: one log line per
 * request and per response), with the rate limit still checked on every request but set out of
 * reach, since one load generator is one client.
 */
export function serviceEnv(ctx: RunContext): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    LOG_LEVEL: 'info',
    ENCRYPTION_KEYS: ctx.encryptionKeys,
    JWT_SECRET: ctx.jwtSecret,
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_WINDOW_MS: '1000',
  };
}

/** The tier nearest 10,000 transactions: a busy customer, the one whose history page is read. */
export function nearTenThousand(users: readonly SeedUser[]): string {
  const tiers = users.filter((u) => u.tier !== null);
  const score = (u: SeedUser) => Math.abs(Math.log((u.tier ?? 1) / 10_000));
  const best = [...tiers].sort((a, b) => score(a) - score(b))[0];
  if (best === undefined) throw new Error('a dataset without tier users');
  return best.id;
}

export function scenarioUsers(
  analytics: readonly SeedUser[],
  pages: readonly SeedUser[],
  prefix: string,
): ScenarioUsers {
  const tiers = new Map<number, string>();
  for (const user of analytics) if (user.tier !== null) tiers.set(user.tier, user.id);
  return {
    tiers,
    historyUser: nearTenThousand(pages),
    creditUser: nearTenThousand(analytics),
    writers: Array.from({ length: 1000 }, (_, i) => `${prefix}w${i}`),
  };
}
