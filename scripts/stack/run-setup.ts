import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { MongoClient } from 'mongodb';
import type { Servers } from './servers.ts';

/**
 * What a multi-process run (`npm run stack:local`, `npm run faults`, `npm run pipeline`) names for
 * itself alone, so runs never see each other's data or messages: its database, topics, consumer
 * group and data directory, its secrets, and the environment every one of its processes shares.
 */
export interface RunSetup {
  readonly run: string;
  readonly jwtSecret: string;
  readonly dataDir: string;
  readonly database: string;
  readonly groupId: string;
  readonly topicPrefix: string;
  readonly env: Readonly<Record<string, string>>;
}

export function runSetup(servers: Servers, label: string, partitions: number): RunSetup {
  const run = randomBytes(5).toString('hex');
  const jwtSecret = randomBytes(32).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), `fido-${label}-`));
  const database = `fido_${label}_${run}`;
  const groupId = `${label}-${run}-workers`;
  const topicPrefix = `${label}-${run}.`;
  const env = {
    MONGODB_URL: servers.mongodbUrl,
    MONGODB_DATABASE: database,
    REDIS_URL: servers.redisUrl,
    KAFKA_BROKERS: servers.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    KAFKA_PARTITIONS: String(partitions),
    WORKER_GROUP_ID: groupId,
    ENCRYPTION_KEYS: `${label}:${randomBytes(32).toString('base64')}`,
    JWT_SECRET: jwtSecret,
    // the whole load comes from one client: its budget must not be what the run measures
    RATE_LIMIT_MAX: '1000000',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    PORT: '0',
  };
  return { run, jwtSecret, dataDir, database, groupId, topicPrefix, env };
}

/** A service token for the run's load, its subject unique to the run. */
export function loadToken(setup: RunSetup, label: string): Promise<string> {
  return new SignJWT({ scope: 'service' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(`${label}-load-${setup.run}`)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(setup.jwtSecret));
}

/** Drops a run's own database on the test bed's server (its cleanup, and the deploy tests'). */
export async function dropDatabase(url: string, database: string): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 3000 });
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}
