import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { MongoClient } from 'mongodb';
import { createClient } from './client.ts';
import { startLoadBalancer, type LoadBalancer } from './load-balancer.ts';
import { runLoad } from './load.ts';
import { partitionList } from './report.ts';
import { startService, type Exit, type ServiceProcess } from './processes.ts';
import { assigned, poll, verify, type StackReport } from './verify.ts';

/**
 * `npm run stack:local` and test/deploy/stack-local.test.ts: two API processes behind a
 * round-robin balancer on loopback and two worker processes in one consumer group, on the test
 * bed's servers; a bounded load through the balancer; one API and one worker SIGKILLed mid-run;
 * then the checks in verify.ts. Everything it creates is named uniquely for the run (database,
 * topics, consumer group, token subject), so runs never see each other's data.
 */
export interface StackOptions {
  readonly servers: { readonly mongodbUrl: string; readonly redisUrl: string; readonly kafkaBrokers: string };
  readonly writes: number;
  readonly users: number;
  readonly concurrency: number;
  /** Bound on the load's duration: no write starts after it. */
  readonly loadSeconds: number;
  readonly partitions: number;
  /** Acknowledged writes before the kills. */
  readonly killAfter: number;
  readonly progress?: (line: string) => void;
}

const START_TIMEOUT_MS = 60_000;
/** A retry of a create in flight on the killed API waits out the 30 s idempotency lock. */
const REQUEST_DEADLINE_MS = 45_000;

export async function runStack(options: StackOptions): Promise<StackReport> {
  const started = performance.now();
  const say = (line: string) => {
    options.progress?.(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);
  };
  const run = randomBytes(5).toString('hex');
  const jwtSecret = randomBytes(32).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'fido-stack-'));
  const database = `fido_stack_${run}`;
  const env: Record<string, string> = {
    MONGODB_URL: options.servers.mongodbUrl,
    MONGODB_DATABASE: database,
    REDIS_URL: options.servers.redisUrl,
    KAFKA_BROKERS: options.servers.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `stack-${run}.`,
    KAFKA_PARTITIONS: String(options.partitions),
    WORKER_GROUP_ID: `stack-${run}-workers`,
    ENCRYPTION_KEYS: `stack:${randomBytes(32).toString('base64')}`,
    JWT_SECRET: jwtSecret,
    // the whole load comes from one client: its budget must not be what the run measures
    RATE_LIMIT_MAX: '1000000',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    PORT: '0',
  };
  const services: ServiceProcess[] = [];
  let balancer: LoadBalancer | undefined;
  try {
    say(`run ${run}: starting 2 API and 2 worker processes (database ${database})`);
    const starts = await Promise.allSettled(
      (['api-1', 'api-2', 'worker-1', 'worker-2'] as const).map((name) =>
        startService(name, { ...env, ROLE: name.startsWith('api') ? 'api' : 'worker' }, START_TIMEOUT_MS),
      ),
    );
    for (const s of starts) if (s.status === 'fulfilled') services.push(s.value.service);
    const [api1, api2, worker1, worker2] = starts.map((s) => {
      if (s.status === 'rejected') throw s.reason;
      return s.value;
    });
    if (api1 === undefined || api2 === undefined || worker1 === undefined || worker2 === undefined) {
      throw new Error('four processes expected');
    }
    const backends = [api1.address ?? '', api2.address ?? ''];
    const lb = await startLoadBalancer(backends);
    balancer = lb;
    await poll(() => backends.every((b) => lb.healthy(b)), START_TIMEOUT_MS, 'both APIs ready');
    // the takeover is only a takeover if the group was shared before the kill
    await poll(
      () => {
        const [a, b] = [assigned(worker1.service).length, assigned(worker2.service).length];
        return a > 0 && b > 0 && a + b === options.partitions;
      },
      START_TIMEOUT_MS,
      'both workers own partitions',
    );
    say(
      `balancer ${lb.url} -> ${backends.join(', ')}; partitions: worker-1 ${partitionList(assigned(worker1.service))}, worker-2 ${partitionList(assigned(worker2.service))}`,
    );

    const token = await new SignJWT({ scope: 'service' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(`stack-load-${run}`)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(jwtSecret));
    const client = createClient(lb.url, token, REQUEST_DEADLINE_MS);
    const users = Array.from({ length: options.users }, (_, i) => `stack-${run}-u${i}`);
    const victims = { api: api1, worker: worker1 };
    const kill: { at: number; wallTime: number; afterWrites: number; inFlight: number } = {
      at: Number.POSITIVE_INFINITY,
      wallTime: 0,
      afterWrites: -1,
      inFlight: 0,
    };
    say(`load: ${options.writes} writes from ${options.concurrency} lanes over ${options.users} users`);
    const load = await runLoad({
      client,
      users,
      writes: options.writes,
      concurrency: options.concurrency,
      maxMs: options.loadSeconds * 1000,
      onWrite: (count) => {
        if (kill.afterWrites >= 0 || count < options.killAfter) return;
        // kill while the API has requests in flight (the case under test), unless it never has
        if (lb.inFlight(victims.api.address ?? '') === 0 && count < options.killAfter + 50) return;
        kill.inFlight = lb.inFlight(victims.api.address ?? '');
        victims.api.service.kill('SIGKILL');
        victims.worker.service.kill('SIGKILL');
        Object.assign(kill, { wallTime: Date.now(), afterWrites: count });
        // requests that reached the API until it actually died were in flight on it
        void victims.api.service.exited.then(() => (kill.at = performance.now()));
        say(`SIGKILL api-1 (${kill.inFlight} requests in flight) and worker-1 after ${count} writes`);
      },
    });
    say(
      `load done: ${load.started} writes started, acknowledged ${JSON.stringify(load.acknowledged)}; verifying`,
    );
    const report = await verify({
      load,
      client,
      lb,
      users,
      kill,
      victimApi: victims.api.address ?? '',
      survivor: worker2.service,
      partitions: options.partitions,
      mongodb: { url: options.servers.mongodbUrl, database },
      writes: options.writes,
      say,
    });
    await lb.close();
    balancer = undefined;
    const exits: Record<string, Exit> = {};
    for (const s of [api2.service, worker2.service]) exits[s.name] = await s.stop();
    report.checks.push({
      name: 'the surviving processes stop gracefully on SIGTERM (exit 0)',
      ok: Object.values(exits).every((e) => e.code === 0),
      detail: JSON.stringify(exits),
    });
    const ok = report.checks.every((c) => c.ok);
    // a failed run keeps its data for a look; the topics stay (deleting them needs an admin client)
    if (ok) await dropDatabase(options.servers.mongodbUrl, database);
    else say(`database ${database} kept for inspection`);
    return { ...report, ok, durationMs: performance.now() - started };
  } finally {
    await balancer?.close();
    for (const s of services) s.kill('SIGKILL');
    await Promise.all(services.map((s) => s.exited));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function dropDatabase(url: string, database: string): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 3000 });
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}
