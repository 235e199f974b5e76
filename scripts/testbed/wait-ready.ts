// Waits until the test-bed servers answer real requests (see docs/TESTBED.md).
//
// Usage:
//   node scripts/testbed/wait-ready.ts [--pid NAME=PIDFILE]... [--timeout SECONDS] NAME...
//   NAME is one of: redis, kafka, mongodb, jaeger
//
// Each server is polled until it answers, within its own deadline (Kafka 60 s, others 30 s,
// or --timeout for all). With --pid, a server whose process has exited fails at once instead
// of waiting for the deadline. Progress goes to stderr; the names of the servers that did not
// become ready are printed on stdout, one per line. Exit code 0 when all are ready, 1 otherwise,
// 2 on bad usage.
//
// Addresses come from MONGODB_URL, REDIS_URL, KAFKA_BROKERS, OTEL_EXPORTER_OTLP_ENDPOINT (Jaeger's
// OTLP/HTTP receiver) and JAEGER_URL (its query API), defaulting to the test bed's.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { createClient } from 'redis';
import { Admin } from '@platformatic/kafka';

type ServerName = 'redis' | 'kafka' | 'mongodb' | 'jaeger';

const SERVER_NAMES: readonly ServerName[] = ['redis', 'kafka', 'mongodb', 'jaeger'];

const DEFAULT_DEADLINE_MS: Record<ServerName, number> = {
  redis: 30_000,
  kafka: 60_000,
  mongodb: 30_000,
  jaeger: 30_000,
};

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
const MONGODB_URL = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:37017/fido';
const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092')
  .split(',')
  .map((b) => b.trim())
  .filter((b) => b !== '');
const OTLP_ENDPOINT = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:14318').replace(
  /\/+$/,
  '',
);
const JAEGER_URL = (process.env.JAEGER_URL ?? 'http://127.0.0.1:16686').replace(/\/+$/, '');

// A single attempt never takes longer than this, whatever the client does.
const ATTEMPT_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 250;

function log(message: string): void {
  process.stderr.write(`[wait-ready] ${message}\n`);
}

function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map(errorText).join('; ');
  }
  if (err instanceof Error) {
    const cause = err.cause === undefined ? '' : ` (cause: ${errorText(err.cause)})`;
    return `${err.name}: ${err.message}${cause}`;
  }
  return String(err);
}

async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} timed out after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function checkRedis(): Promise<string> {
  const client = createClient({
    url: REDIS_URL,
    socket: { connectTimeout: 2_000, reconnectStrategy: false },
  });
  client.on('error', () => {
    // Reported through the rejected promises below.
  });
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') {
      throw new Error(`unexpected PING reply ${JSON.stringify(pong)}`);
    }
    return 'PING answered PONG';
  } finally {
    client.destroy();
  }
}

async function checkMongodb(): Promise<string> {
  const client = new MongoClient(MONGODB_URL, {
    serverSelectionTimeoutMS: 2_000,
    connectTimeoutMS: 2_000,
    socketTimeoutMS: 4_000,
    maxPoolSize: 1,
  });
  try {
    await client.connect();
    await client.db().command({ ping: 1 });
    // A scratch database of its own, so the application's database stays untouched.
    const scratch = client.db('testbed_ready').collection<{ _id: string; at: Date }>('ready');
    const id = `probe-${process.pid}-${Date.now()}`;
    await scratch.insertOne({ _id: id, at: new Date() });
    const found = await scratch.findOne({ _id: id });
    if (found === null) {
      throw new Error('inserted document not found');
    }
    await scratch.deleteOne({ _id: id });
    return 'ping, insert and find answered';
  } finally {
    await client.close(true);
  }
}

async function checkKafka(): Promise<string> {
  const admin = new Admin({
    clientId: 'testbed-wait-ready',
    bootstrapBrokers: KAFKA_BROKERS,
    connectTimeout: 2_000,
    requestTimeout: 4_000,
    timeout: 4_000,
    retries: 0,
  });
  try {
    const metadata = await admin.metadata({ topics: [] });
    if (metadata.brokers.size === 0) {
      throw new Error('metadata lists no broker');
    }
    const topics = await admin.listTopics({ includeInternals: true });
    // Consumer groups need the group coordinator (and __consumer_offsets) to be up:
    // ask for one so that the first test does not pay for it.
    const coordinators = await admin.findCoordinator({ keyType: 0, keys: ['testbed-wait-ready'] });
    const coordinator = coordinators[0];
    if (coordinator === undefined || coordinator.nodeId < 0) {
      throw new Error(`no group coordinator yet: ${JSON.stringify(coordinators)}`);
    }
    return `metadata (${metadata.brokers.size} broker, ${topics.length} topics) and group coordinator answered`;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

const JAEGER_PROBE_SERVICE = 'testbed-wait-ready';

async function checkJaeger(): Promise<string> {
  // One span by OTLP/HTTP JSON, then the query API must list its service: both ends answer and
  // the pipeline between them (receiver, batch, in-memory storage) works.
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const post = await fetch(`${OTLP_ENDPOINT}/v1/traces`, {
    method: 'POST',
    signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: JAEGER_PROBE_SERVICE } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: randomBytes(16).toString('hex'),
                  spanId: randomBytes(8).toString('hex'),
                  name: 'probe',
                  kind: 1,
                  startTimeUnixNano: String(nowNs),
                  endTimeUnixNano: String(nowNs + 1_000_000n),
                },
              ],
            },
          ],
        },
      ],
    }),
  });
  if (!post.ok) {
    throw new Error(`OTLP POST answered ${post.status}: ${(await post.text()).slice(0, 200)}`);
  }
  const get = await fetch(`${JAEGER_URL}/api/services`, { signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS) });
  if (!get.ok) {
    throw new Error(`GET /api/services answered ${get.status}`);
  }
  const body = (await get.json()) as { data?: unknown };
  if (!Array.isArray(body.data) || !body.data.includes(JAEGER_PROBE_SERVICE)) {
    throw new Error(
      `GET /api/services does not list ${JAEGER_PROBE_SERVICE} yet: ${JSON.stringify(body.data)}`,
    );
  }
  return 'OTLP span accepted and its service listed by the query API';
}

const CHECKS: Record<ServerName, () => Promise<string>> = {
  redis: checkRedis,
  kafka: checkKafka,
  mongodb: checkMongodb,
  jaeger: checkJaeger,
};

function processAlive(pidFile: string): { alive: boolean; detail: string } {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  } catch (err) {
    return { alive: false, detail: `cannot read ${pidFile}: ${errorText(err)}` };
  }
  if (!Number.isInteger(pid) || pid <= 0) {
    return { alive: false, detail: `no pid in ${pidFile}` };
  }
  try {
    process.kill(pid, 0);
  } catch {
    return { alive: false, detail: `process ${pid} (from ${pidFile}) has exited` };
  }
  try {
    // A zombie still answers kill(0): look at its state too.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') {
      return { alive: false, detail: `process ${pid} (from ${pidFile}) has exited` };
    }
  } catch {
    // No /proc: trust kill(0).
  }
  return { alive: true, detail: '' };
}

async function waitFor(name: ServerName, deadlineMs: number, pidFile: string | undefined): Promise<boolean> {
  const started = Date.now();
  const deadline = started + deadlineMs;
  let attempts = 0;
  let lastError = 'no attempt made';
  while (Date.now() < deadline) {
    attempts += 1;
    if (pidFile !== undefined) {
      const { alive, detail } = processAlive(pidFile);
      if (!alive) {
        log(`${name}: NOT ready: ${detail}${attempts > 1 ? `; last error: ${lastError}` : ''}`);
        return false;
      }
    }
    const budget = Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now()));
    try {
      const what = await withTimeout(`${name} check`, budget, CHECKS[name]());
      log(`${name}: ready after ${((Date.now() - started) / 1000).toFixed(1)} s (${what})`);
      return true;
    } catch (err) {
      const text = errorText(err);
      if (text !== lastError && attempts > 1) {
        log(`${name}: not yet: ${text}`);
      }
      lastError = text;
    }
    const pause = Math.min(POLL_INTERVAL_MS, deadline - Date.now());
    if (pause > 0) {
      await sleep(pause);
    }
  }
  log(
    `${name}: NOT ready after ${(deadlineMs / 1000).toFixed(0)} s (${attempts} attempts); last error: ${lastError}`,
  );
  return false;
}

function usage(message: string): never {
  log(message);
  log(
    'usage: node scripts/testbed/wait-ready.ts [--pid NAME=PIDFILE]... [--timeout SECONDS] redis|kafka|mongodb|jaeger...',
  );
  process.exit(2);
}

function isServerName(value: string): value is ServerName {
  return (SERVER_NAMES as readonly string[]).includes(value);
}

function parseArgs(argv: string[]): {
  names: ServerName[];
  pidFiles: Map<ServerName, string>;
  timeoutMs: number | undefined;
} {
  const names: ServerName[] = [];
  const pidFiles = new Map<ServerName, string>();
  let timeoutMs: number | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--pid' || arg === '--timeout') {
      const value = argv[i + 1];
      if (value === undefined) {
        usage(`${arg} needs a value`);
      }
      i += 1;
      if (arg === '--timeout') {
        const seconds = Number(value);
        if (!Number.isFinite(seconds) || seconds <= 0) {
          usage(`bad --timeout ${value}`);
        }
        timeoutMs = seconds * 1000;
      } else {
        const eq = value.indexOf('=');
        const name = value.slice(0, eq);
        if (eq < 1 || !isServerName(name)) {
          usage(`bad --pid ${value}`);
        }
        pidFiles.set(name, value.slice(eq + 1));
      }
    } else if (isServerName(arg)) {
      if (!names.includes(arg)) {
        names.push(arg);
      }
    } else {
      usage(`unknown argument ${arg}`);
    }
  }
  if (names.length === 0) {
    usage('name at least one server');
  }
  return { names, pidFiles, timeoutMs };
}

const { names, pidFiles, timeoutMs } = parseArgs(process.argv.slice(2));
const results = await Promise.all(
  names.map((name) => waitFor(name, timeoutMs ?? DEFAULT_DEADLINE_MS[name], pidFiles.get(name))),
);
const failed = names.filter((_name, i) => results[i] !== true);
for (const name of failed) {
  process.stdout.write(`${name}\n`);
}
// Clients may leave sockets or timers behind after a failed attempt: do not wait for them.
process.exit(failed.length === 0 ? 0 : 1);
