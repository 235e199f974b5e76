import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createKeyring, parseKeys } from '../../src/crypto/keyring.ts';
import { buildDeps } from '../../src/deps.ts';
import { topicsFor } from '../../src/events/transaction-events.ts';
import { buildApp } from '../../src/http/app.ts';
import { startWorker } from '../../src/worker/worker.ts';
import { random, planUsers, writesOf } from '../bench/dataset.ts';
import { dropMongoDatabases, seedMongo } from '../bench/seed-mongo.ts';
import { seedEmbedded } from '../bench/seed-embedded.ts';
import type { SeedSink } from '../bench/seed.ts';
import { consumption, reached } from '../faults/kafka-offsets.ts';
import { poll } from '../stack/wait.ts';
import {
  addInto,
  installOperationCounter,
  newBucket,
  setAmbient,
  within,
  type Bucket,
} from './op-counter.ts';

/**
 * Store operations per event, counted (op-counter.ts), not timed: the real API (in process, its
 * requests through app.inject) and the real worker (relay, consumer on Kafka, projector with
 * alerts, scores and webhook fan-out to a registered subscription), on a store already holding
 * `stored` events of other users. Phases run one after another so each is counted alone: creates
 * without a key, creates with an Idempotency-Key, then the worker relays and projects them all.
 */
export interface Cost {
  readonly reads: number;
  readonly writes: number;
  readonly commits: number;
  readonly commands: Readonly<Record<string, number>>;
}
export interface OperationCosts {
  readonly store: 'embedded' | 'mongodb';
  readonly stored: number;
  readonly events: number;
  readonly users: number;
  readonly create: Cost;
  readonly createWithKey: Cost;
  readonly relay: Cost & { readonly batches: number };
  /** Polls that found nothing to relay (per poll, not per event). */
  readonly relayIdlePolls: number;
  /** Operations of the worker phase that ran outside every counted context (must be 0). */
  readonly unattributed: number;
  readonly projector: Cost & { readonly batches: number };
}

const KEYS = `costs:${Buffer.alloc(32, 9).toString('base64')}`;
const SECRET = randomBytes(24).toString('hex');

export async function measureOperationCosts(options: {
  readonly store: 'embedded' | 'mongodb';
  readonly stored: number;
  /** Creates per phase (without and with a key): the worker then handles twice as many events. */
  readonly creates: number;
  readonly users: number;
  readonly mongodbUrl: string;
  readonly kafkaBrokers: string;
}): Promise<OperationCosts> {
  installOperationCounter();
  const run = randomBytes(4).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'fido-costs-'));
  const database = `fido_costs_${run}`;
  const topicPrefix = `costs-${run}.`;
  const partitions = 3;
  await seed(options, dataDir, database);
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ENCRYPTION_KEYS: KEYS,
    JWT_SECRET: SECRET,
    ...(options.store === 'mongodb' ? { MONGODB_URL: options.mongodbUrl, MONGODB_DATABASE: database } : {}),
    // Kafka on both stores: the embedded bus is SQLite too and would be counted as the store
    KAFKA_BROKERS: options.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    KAFKA_PARTITIONS: String(partitions),
    WORKER_GROUP_ID: `costs-${run}`,
    RECONCILE_INTERVAL_MS: '86400000',
    RATE_LIMIT_MAX: '1000000',
  });
  const deps = await buildDeps(config, pino({ level: 'silent' }));
  const app = await buildApp(deps);
  const receiver = createServer((req, res) => req.resume().on('end', () => res.end())).listen(0, '127.0.0.1');
  try {
    await app.ready();
    // as a deployed API meets it: the topic exists (workers create it) and its partition count is
    // read, so every marker records its partition; else the relay's count would include assigning
    // partitions to markers written before the count was known, a start-up cost that varies
    await deps.bus.ensureTopics([{ name: topicsFor(topicPrefix).transactions, partitions }]);
    // a topic just created reaches the brokers' metadata a moment later: read until it shows
    await poll(
      async () => {
        await deps.partitionCount.refresh();
        return deps.partitionCount.get() === partitions;
      },
      10_000,
      "the run topic's partition count read",
    );
    const token = await new SignJWT({ scope: 'service' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('costs')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    const inject = async (
      url: string,
      payload: object,
      headers: Record<string, string> = {},
    ): Promise<LightMyRequestResponse> =>
      app.inject({ method: 'POST', url, payload, headers: { authorization: `Bearer ${token}`, ...headers } });
    const { port } = receiver.address() as AddressInfo;
    const hook = await inject('/api/v1/webhooks', {
      url: `http://127.0.0.1:${port}/`,
      event_types: ['transaction.*'],
    });
    if (hook.statusCode !== 201) throw new Error(`webhook not registered: ${hook.payload}`);
    const users = Array.from({ length: options.users }, (_, i) => `costs-${run}-u${i}`);
    const creates = async (bucket: Bucket, key: boolean) => {
      for (let i = 0; i < options.creates; i++) {
        const body = {
          user_id: users[i % users.length],
          full_name: 'Ama Mensah',
          transaction_date: `2024-10-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`,
          transaction_amount: `${100 + i}.25`,
          transaction_type: i % 3 === 0 ? 'debit' : 'credit',
        };
        const headers: Record<string, string> = key ? { 'idempotency-key': `k-${run}-${i}` } : {};
        setAmbient(bucket);
        try {
          const answer = await inject('/api/v1/transactions', body, headers);
          if (answer.statusCode !== 201)
            throw new Error(`create answered ${answer.statusCode}: ${answer.payload}`);
        } finally {
          setAmbient(undefined);
        }
      }
    };
    const create = newBucket();
    const createWithKey = newBucket();
    await creates(create, false);
    await creates(createWithKey, true);

    const relay = newBucket();
    const idle = newBucket();
    const projector = newBucket();
    const delivery = newBucket();
    const batches = { relay: 0, idle: 0, projector: 0 };
    const { outbox, webhooks, stats } = deps.storage;
    // the harness's own look at the backlog is not the relay's work
    const backlog = outbox.backlog.bind(outbox);
    wrap(outbox, Object.keys(outbox), (result, bucket) => {
      const empty = Array.isArray(result) && result.length === 0;
      addInto(empty ? idle : relay, bucket);
      if (Array.isArray(result)) batches[empty ? 'idle' : 'relay']++;
    });
    wrap(webhooks, ['due', 'update', 'get'], (_, bucket) => {
      addInto(delivery, bucket);
    });
    const save = stats.saveProjection.bind(stats);
    Object.assign(stats, {
      saveProjection: (...args: Parameters<typeof save>) => {
        batches.projector++;
        return save(...args);
      },
    });
    // whatever runs outside the contexts above (a callback that lost its async context) lands here
    const stray = newBucket();
    setAmbient(stray);
    const worker = await within(projector, () => startWorker(deps));
    try {
      const topic = topicsFor(topicPrefix).transactions;
      const groupId = config.events.groupId;
      await poll(
        async () => {
          if ((await within(newBucket(), backlog)) > 0) return false;
          const state = await consumption(options.kafkaBrokers, topic, partitions, [groupId]);
          return state.produced >= 2 * options.creates && reached(state, groupId, state.ends);
        },
        180_000,
        'every event relayed and projected',
      );
      const snapshot = (b: Bucket): Cost => ({
        reads: b.reads,
        writes: b.writes,
        commits: b.commits,
        commands: Object.fromEntries(b.commands),
      });
      return {
        store: options.store,
        stored: options.stored,
        events: 2 * options.creates,
        users: options.users,
        create: snapshot(create),
        createWithKey: snapshot(createWithKey),
        relay: { ...snapshot(relay), batches: batches.relay },
        relayIdlePolls: batches.idle,
        unattributed: stray.reads + stray.writes,
        projector: { ...snapshot(projector), batches: batches.projector },
      };
    } finally {
      setAmbient(undefined);
      await worker.stop();
    }
  } finally {
    await app.close();
    await deps.close();
    receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (options.store === 'mongodb') await dropMongoDatabases(options.mongodbUrl, [database]);
  }
}

/** Counts each named method's store operations in a bucket of its own, handed to `done` with the result. */
function wrap(target: object, names: readonly string[], done: (result: unknown, bucket: Bucket) => void) {
  const methods = target as Record<string, unknown>;
  for (const name of names) {
    const original = methods[name];
    if (typeof original !== 'function') continue;
    methods[name] = async (...args: unknown[]) => {
      const bucket = newBucket();
      const result: unknown = await within(bucket, () =>
        (original as (...a: unknown[]) => unknown).apply(target, args),
      );
      done(result, bucket);
      return result;
    };
  }
}

/** `stored` events of other users, written as the bench seeds them (the fastest legitimate path). */
async function seed(
  options: { store: 'embedded' | 'mongodb'; stored: number; mongodbUrl: string },
  dataDir: string,
  database: string,
) {
  if (options.stored === 0) return;
  const keyring = createKeyring(parseKeys(KEYS));
  const rand = random(11);
  const now = new Date();
  const fill = async (sink: SeedSink) => {
    for (const user of planUsers('seed-', { users: 50, transactions: options.stored, tiers: [] }, rand)) {
      for (const batch of writesOf(user, keyring, rand, now, 500)) await sink.insertBatch(batch);
    }
  };
  if (options.store === 'mongodb') await seedMongo(options.mongodbUrl, database, 'steady', fill);
  else await seedEmbedded(dataDir, 'steady', fill);
}
