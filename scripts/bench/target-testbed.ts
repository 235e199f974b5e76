import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { MongoClient } from 'mongodb';
import { createKafkaBus } from '../../src/adapters/kafka/kafka-bus.ts';
import {
  datasetReport,
  serviceEnv,
  scenarioUsers,
  type DatasetReport,
  type RunContext,
  type TargetResult,
} from './context.ts';
import { planUsers, random, type SeedUser } from './dataset.ts';
import { drainBacklog, publishBacklog, type DrainResult } from './drain-bench.ts';
import { runHttpScenarios, type ScenarioOutcome } from './http-bench.ts';
import { measureLag, type LagResult } from './lag-bench.ts';
import { onInterrupt, startChild } from './processes.ts';
import { scenariosFor, selectScenarios } from './scenarios.ts';
import { seedDataset, verifySteadyState } from './seed.ts';
import { dropMongoDatabases, seedMongo } from './seed-mongo.ts';

export interface TestbedUrls {
  readonly mongodb: string;
  readonly redis: string;
  readonly kafka: string;
}

/** Names unique to one run: databases, topics, consumer groups, users. */
interface Testbed {
  readonly ctx: RunContext;
  readonly urls: TestbedUrls;
  readonly prefix: string;
  readonly topics: string;
  db(suffix: string): string;
  /** A service child's environment on `database` in `role`, on topics and a group of its own. */
  env(database: string, role: 'api' | 'worker', name: string): Record<string, string>;
}

/**
 * The test bed: FerretDB 1.24 on SQLite (MongoDB protocol), Redis and Kafka on loopback, the
 * service as separate API (ROLE=api) and worker processes. Every database, topic and consumer
 * group is new to this run and removed at the end (unless BENCH_KEEP=1).
 */
export async function runTestbed(ctx: RunContext, urls: TestbedUrls): Promise<TargetResult> {
  const runId = ctx.runId;
  const tb: Testbed = {
    ctx,
    urls,
    prefix: `b${runId}-`,
    topics: `fido-bench-${runId}.`,
    db: (suffix) => `fido_bench_${runId}_${suffix}`,
    env: (database, role, name) => ({
      ...serviceEnv(ctx),
      MONGODB_URL: urls.mongodb,
      REDIS_URL: urls.redis,
      KAFKA_BROKERS: urls.kafka,
      MONGODB_DATABASE: database,
      ROLE: role,
      KAFKA_TOPIC_PREFIX: `fido-bench-${runId}.${name}.`,
      WORKER_GROUP_ID: `fido-bench-${runId}-${name}`,
    }),
  };
  const datasets: Record<string, DatasetReport> = {};
  const parts = ctx.options.parts;
  const cleanUpRun = () =>
    cleanUp(
      urls,
      ['a', 'p', 'd', 'l'].map((s) => tb.db(s)),
      tb.topics,
    );
  const unregister = ctx.options.keep ? () => undefined : onInterrupt(cleanUpRun);
  try {
    const http = parts.includes('http') ? await httpScenarios(tb, datasets) : [];
    const drain = parts.includes('drain') ? await drainScenario(tb, datasets) : null;
    const lag = parts.includes('lag') ? await lagScenario(tb) : null;
    return {
      name: 'testbed',
      conditions: [
        "MongoDB protocol: FerretDB 1.24 on SQLite, WAL with synchronous=NORMAL (a commit survives a FerretDB crash, not a power cut); the driver's default write concern",
        'FerretDB scans the whole collection for every filter but an exact _id (and scans the SQLite table even then, stopping at the match): query cost grows with the collection, not the user',
        'Kafka 4.1, one broker (KRaft), replication factor 1; producers idempotent with acks=all (the service and the raw ceiling alike)',
        'Redis 7 without persistence; the service runs ROLE=api for the HTTP scenarios and as separate API and worker processes for the lag',
      ],
      datasets,
      http,
      drain,
      lag,
    };
  } finally {
    unregister();
    if (!ctx.options.keep) await cleanUpRun();
  }
}

async function httpScenarios(
  tb: Testbed,
  datasets: Record<string, DatasetReport>,
): Promise<ScenarioOutcome[]> {
  const { options } = tb.ctx;
  const analyticsUsers = planUsers(tb.prefix, options.testbed.analytics, random(3));
  const pageUsers = planUsers(`${tb.prefix}p`, options.testbed.pages, random(4));
  datasets.analytics = datasetReport(
    await seedSteady(tb, 'test bed analytics', tb.db('a'), analyticsUsers, 13, false),
    options.testbed.analytics.tiers,
  );
  datasets.pages = datasetReport(
    await seedSteady(tb, 'test bed pages', tb.db('p'), pageUsers, 14, true),
    options.testbed.pages.tiers,
  );
  const who = scenarioUsers(analyticsUsers, pageUsers, tb.prefix);
  const base = serviceEnv(tb.ctx);
  return runHttpScenarios(
    {
      name: 'testbed',
      workDir: tb.ctx.workDir,
      oneDataset: false,
      serviceEnv: (dataset, cache) => ({
        ...tb.env(tb.db(dataset === 'analytics' ? 'a' : 'p'), 'api', 'http'),
        ...(cache === 'off' && { CACHE_TTL_MS: '0' }),
      }),
      ceilingsEnv: (bodiesFile, cacheValue) => ({
        PATH: base.PATH ?? '',
        LOG_LEVEL: base.LOG_LEVEL ?? 'info',
        MONGODB_URL: tb.urls.mongodb,
        MONGODB_DATABASE: tb.db('p'),
        REDIS_URL: tb.urls.redis,
        KAFKA_BROKERS: tb.urls.kafka,
        BENCH_KAFKA_TOPIC: `${tb.topics}raw`,
        BENCH_CACHE_VALUE: cacheValue,
        BENCH_BODIES_FILE: bodiesFile,
        BENCH_HISTORY_USER: who.historyUser,
      }),
    },
    selectScenarios(scenariosFor(who, tb.ctx.token, true), options.scenarios),
    options,
  );
}

/**
 * `verify`: check a tier user's seeded statistics with the reconciliation. Only on a small
 * database: on FerretDB the reconciliation reads the user's transactions by scanning the whole
 * collection, which on the analytics database outlasts the driver's 10 s socket timeout.
 */
function seedSteady(
  tb: Testbed,
  label: string,
  database: string,
  users: SeedUser[],
  seed: number,
  verify: boolean,
) {
  const { keyring, now } = tb.ctx;
  return seedMongo(tb.urls.mongodb, database, 'steady', async (sink) => {
    const result = await seedDataset(sink, { label, users, keyring, seed, now, mode: 'steady' });
    const smallest = users.filter((u) => u.tier !== null).sort((a, b) => a.count - b.count)[0];
    if (verify && smallest) await verifySteadyState(sink.stats, [smallest.id], now);
    return result;
  });
}

/** A backlog on fresh topics, its writes committed (markers published) in a fresh database. */
async function drainScenario(tb: Testbed, datasets: Record<string, DatasetReport>): Promise<DrainResult> {
  const { options, keyring, now } = tb.ctx;
  const count = options.drain.testbedEvents;
  const size = { users: Math.ceil(count / 20), transactions: count, tiers: [] };
  const users = planUsers(`${tb.prefix}d`, size, random(5));
  const backlog = await seedMongo(tb.urls.mongodb, tb.db('d'), 'backlog', (sink) =>
    seedDataset(sink, { label: 'test bed backlog', users, keyring, seed: 15, now, mode: 'backlog' }),
  );
  datasets.drain = datasetReport(backlog, []);
  const env = tb.env(tb.db('d'), 'worker', 'drain');
  const bus = createKafkaBus({ brokers: tb.urls.kafka.split(','), clientId: 'fido-bench' });
  await publishBacklog(bus, env.KAFKA_TOPIC_PREFIX ?? '', 6, backlog.events);
  await bus.close();
  const client = new MongoClient(tb.urls.mongodb, { appName: 'fido-bench-observer' });
  await client.connect();
  try {
    return await drainBacklog({
      name: 'testbed',
      workDir: tb.ctx.workDir,
      env,
      events: count,
      users: users.length,
      deadlineS: options.drain.deadlineS,
      remainingMarkers: () => client.db(tb.db('d')).collection('stats_pending').countDocuments({}),
    });
  } finally {
    await client.close();
  }
}

/** API and worker processes on a fresh database. */
async function lagScenario(tb: Testbed): Promise<LagResult> {
  const { ctx } = tb;
  const database = tb.db('l');
  const api = await startChild({
    script: 'src/main.ts',
    env: tb.env(database, 'api', 'lag'),
    logFile: join(ctx.workDir, 'testbed-lag-api.log'),
    readyPath: '/health/ready',
  });
  const worker = await startChild({
    script: 'scripts/bench/worker-child.ts',
    env: tb.env(database, 'worker', 'lag'),
    logFile: join(ctx.workDir, 'testbed-lag-worker.log'),
    readyPath: null,
  });
  const client = new MongoClient(tb.urls.mongodb, { appName: 'fido-bench-observer' });
  await client.connect();
  const markers = client.db(database).collection<{ transaction_id: string }>('stats_pending');
  try {
    return await measureLag({
      url: api.url,
      token: ctx.token,
      writers: Array.from({ length: 1000 }, (_, i) => `${tb.prefix}lag${i}`),
      ...ctx.options.lag,
      pendingIds: async () => {
        const docs = await markers.find({}, { projection: { _id: 0, transaction_id: 1 } }).toArray();
        return new Set(docs.map((m) => m.transaction_id));
      },
    });
  } finally {
    await api.stop();
    await worker.stop();
    await client.close();
  }
}

async function cleanUp(urls: TestbedUrls, databases: string[], topicPrefix: string): Promise<void> {
  await dropMongoDatabases(urls.mongodb, databases);
  const admin = new Admin({ clientId: 'fido-bench-cleanup', bootstrapBrokers: urls.kafka.split(',') });
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } finally {
    await admin.close();
  }
}
