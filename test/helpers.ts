import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { SignJWT } from 'jose';
import { after, before } from 'node:test';
import { pino, type Logger } from 'pino';
import { loadConfig } from '../src/config.ts';
import { buildDeps, type Deps } from '../src/deps.ts';
import { buildApp } from '../src/http/app.ts';
import { startWorker, type Worker } from '../src/worker/worker.ts';

/** A server URL the test bed provides; a missing one fails the test loudly (never a silent skip). */
export function requireEnv(
  name: 'MONGODB_URL' | 'REDIS_URL' | 'KAFKA_BROKERS' | 'TESTBED_OTLP_ENDPOINT' | 'JAEGER_URL',
): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: run the suite with \`npm test\` (it starts the test bed) or export it`,
    );
  }
  return value;
}

export const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(6).toString('hex')}`;

export const TEST_ENCRYPTION_KEYS = `test-k1:${Buffer.alloc(32, 7).toString('base64')}`;
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256!';

export interface TokenOptions {
  readonly sub?: string;
  readonly scope?: string;
  readonly expiresIn?: number;
  readonly secret?: string;
  readonly claims?: Record<string, unknown>;
}

/** An HS256 access token as a real identity provider would issue it. */
export async function tokenFor(options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: options.scope ?? 'service', ...options.claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub ?? 'test-service')
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 600))
    .sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

export type StoreKind = 'embedded' | 'mongodb';
export const STORE_KINDS: readonly StoreKind[] = ['embedded', 'mongodb'];

export interface TestApp {
  readonly app: FastifyInstance;
  readonly deps: Deps;
  readonly dataDir: string;
  readonly database: string | undefined;
  /** app.inject with a service token unless the request names its own Authorization. */
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** The in-process worker (relay, consumer, reconciliation) when started with `worker: true`. */
  readonly worker: Worker | null;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Runs the worker role in-process too (role `all`), on its own topics and consumer group. */
  readonly worker?: boolean;
  /** The bus for the worker: Kafka from the test bed, or the embedded durable log. */
  readonly bus?: 'kafka' | 'embedded';
  /** Where the service logs; silent unless a test reads the log. */
  readonly logger?: Logger;
}

/** The real app in-process on the chosen store, with its own data dir or database. */
export async function startApp(
  store: StoreKind,
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fido-test-'));
  const database = store === 'mongodb' ? uniqueId('fido_test').replaceAll('-', '_') : undefined;
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    JWT_SECRET: TEST_JWT_SECRET,
    ...(store === 'mongodb' ? { MONGODB_URL: requireEnv('MONGODB_URL'), MONGODB_DATABASE: database } : {}),
    ...(options.bus === 'kafka' ? { KAFKA_BROKERS: requireEnv('KAFKA_BROKERS') } : {}),
    KAFKA_TOPIC_PREFIX: `${uniqueId('t')}.`,
    WORKER_GROUP_ID: uniqueId('workers'),
    KAFKA_PARTITIONS: '3',
    RELAY_POLL_MS: '10',
    ...env,
  });
  const deps = await buildDeps(config, options.logger ?? pino({ level: 'silent' }));
  let app: FastifyInstance;
  let worker: Worker | null = null;
  try {
    if (options.worker === true) worker = await startWorker(deps);
    app = await buildApp(deps);
    await app.ready();
  } catch (error) {
    await worker?.stop();
    await deps.close();
    throw error;
  }
  const serviceToken = await tokenFor();
  return {
    app,
    deps,
    dataDir,
    database,
    inject: (options) =>
      app.inject({ ...options, headers: { authorization: `Bearer ${serviceToken}`, ...options.headers } }),
    worker,
    async close() {
      await app.close();
      await worker?.stop();
      await deps.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Two API instances on one MongoDB database sharing one Redis (no analytics wait), started before
 * the enclosing suite's tests and closed after them: what two instances behind a load balancer see.
 */
export function twoInstancesSharingRedis(): { readonly a: TestApp; readonly b: TestApp } {
  const started: TestApp[] = [];
  before(async () => {
    const redis = { REDIS_URL: requireEnv('REDIS_URL'), ANALYTICS_WAIT_MS: '0' };
    const a = await startApp('mongodb', redis);
    started.push(a, await startApp('mongodb', { ...redis, MONGODB_DATABASE: a.database ?? '' }));
  });
  after(async () => {
    for (const app of started) await app.close();
  });
  const get = (i: number): TestApp => {
    const app = started[i];
    if (app === undefined) throw new Error('the two instances start before the suite');
    return app;
  };
  return {
    get a() {
      return get(0);
    },
    get b() {
      return get(1);
    },
  };
}

/** A valid create body for `userId`, with overrides. */
export function newTransaction(
  userId: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    user_id: userId,
    full_name: 'Ama Mensah',
    transaction_date: '2024-10-05T10:00:00Z',
    transaction_amount: '475.66',
    transaction_type: 'credit',
    ...overrides,
  };
}

/** Polls `check` until it returns a value or the deadline passes (no fixed sleeps in tests). */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  stepMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
