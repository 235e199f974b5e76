/**
 * `npm run bench:tracing`: what tracing costs on the embedded default (ROLE=all, as `npm start`
 * runs), off against on, exporting over OTLP/HTTP to a real endpoint: the test bed's Jaeger when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (npm run services:up prints it), else a local receiver that
 * accepts and discards. Per mode: server CPU µs per request for a cached history read and for a
 * create, and the worker's drain rate (events/s, CPU µs per event). Prints a Markdown table
 * (docs/TRACING.md keeps the latest). BENCH_DURATION_S, BENCH_RUNS, BENCH_DRAIN_EVENTS size it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openEmbeddedBus } from '../../src/adapters/embedded-bus/embedded-bus.ts';
import { startOtlpSink } from '../telemetry/otlp-sink.ts';
import { benchOptions } from './bench-config.ts';
import { createContext, serviceEnv, type RunContext } from './context.ts';
import { planUsers, random } from './dataset.ts';
import { drainBacklog, publishBacklog, type DrainResult } from './drain-bench.ts';
import { measure, type LoadRequest, type RunResult } from './load.ts';
import { startChild, stopAll } from './processes.ts';
import { writeBodies } from './scenarios.ts';
import { seedDataset } from './seed.ts';
import { seedEmbedded } from './seed-embedded.ts';

interface Mode {
  readonly name: string;
  readonly env: Record<string, string>;
}
interface ModeResult {
  readonly mode: string;
  readonly read: RunResult;
  readonly create: RunResult;
  readonly drain: DrainResult;
}

const int = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const settings = {
  durationS: int('BENCH_DURATION_S', 8),
  warmupS: 3,
  runs: int('BENCH_RUNS', 3),
  connections: 8,
};
const drainEvents = int('BENCH_DRAIN_EVENTS', 20_000);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopAll().finally(() => process.exit(130)));
}

const sink = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? null : await startOtlpSink();
const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? sink?.endpoint ?? '';
const tracingOn = (sampler: string, arg?: string): Record<string, string> => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  OTEL_TRACES_SAMPLER: sampler,
  ...(arg === undefined ? {} : { OTEL_TRACES_SAMPLER_ARG: arg }),
});
const modes: Mode[] = [
  { name: 'off', env: {} },
  { name: 'on, every trace (parentbased_always_on)', env: tracingOn('parentbased_always_on') },
  {
    name: 'on, 10% of traces (parentbased_traceidratio 0.1)',
    env: tracingOn('parentbased_traceidratio', '0.1'),
  },
];

const ctx = await createContext(benchOptions({ ...process.env, BENCH_TARGETS: 'embedded' }));
process.stderr.write(
  `tracing bench ${ctx.runId}: exporting to ${endpoint}${sink ? ' (a local OTLP sink)' : ''}\n`,
);
const results: ModeResult[] = [];
try {
  for (const [i, mode] of modes.entries()) results.push(await runMode(ctx, mode, i));
} finally {
  await stopAll();
  await sink?.close();
  if (process.env.BENCH_KEEP !== '1') rmSync(ctx.workDir, { recursive: true, force: true });
}
process.stdout.write(`\n${table(results)}\n`);

async function runMode(context: RunContext, mode: Mode, index: number): Promise<ModeResult> {
  process.stderr.write(`\n== tracing ${mode.name}\n`);
  const dir = join(context.workDir, `http-${index}`);
  const api = await startChild({
    script: 'src/main.ts',
    env: { ...serviceEnv(context), ...mode.env, LOG_LEVEL: 'warn', DATA_DIR: dir, ROLE: 'all' },
    logFile: join(context.workDir, `api-${index}.log`),
    readyPath: '/health/ready',
  });
  const auth = { authorization: `Bearer ${context.token}` };
  const writers = Array.from({ length: 200 }, (_, i) => `b${context.runId}-w${i}`);
  const reader = writers[0] ?? '';
  const bodies = writeBodies([reader], 3);
  for (let i = 0; i < 60; i++) {
    const res = await fetch(`${api.url}/api/v1/transactions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: bodies(),
    });
    if (res.status !== 201) throw new Error(`seeding answered ${res.status}: ${await res.text()}`);
  }
  const read: LoadRequest = { method: 'GET', path: `/api/v1/users/${reader}/transactions`, headers: auth };
  const create: LoadRequest = {
    method: 'POST',
    path: '/api/v1/transactions',
    headers: { ...auth, 'content-type': 'application/json' },
    body: writeBodies(writers, 11),
  };
  try {
    const readResult = (await measure(api, read, settings)).median;
    const createResult = (await measure(api, create, settings)).median;
    return {
      mode: mode.name,
      read: readResult,
      create: createResult,
      drain: await drain(context, mode, index),
    };
  } finally {
    await api.stop();
  }
}

/** A backlog on the embedded bus drained by a worker process (events carry no trace context). */
async function drain(context: RunContext, mode: Mode, index: number): Promise<DrainResult> {
  const dir = join(context.workDir, `drain-${index}`);
  const size = { users: Math.ceil(drainEvents / 20), transactions: drainEvents, tiers: [] };
  const users = planUsers(`b${context.runId}-d${index}`, size, random(2));
  const backlog = await seedEmbedded(dir, 'backlog', (sink) =>
    seedDataset(sink, {
      label: 'backlog',
      users,
      keyring: context.keyring,
      seed: 12,
      now: context.now,
      mode: 'backlog',
    }),
  );
  const bus = await openEmbeddedBus(dir);
  await publishBacklog(bus, '', 6, backlog.events);
  await bus.close();
  return drainBacklog({
    name: `tracing-${index}`,
    workDir: context.workDir,
    env: { ...serviceEnv(context), ...mode.env, LOG_LEVEL: 'warn', DATA_DIR: dir, ROLE: 'worker' },
    events: drainEvents,
    users: users.length,
    deadlineS: 600,
    remainingMarkers: () => {
      const db = new DatabaseSync(join(dir, 'fido.sqlite'));
      try {
        return Promise.resolve(Number(db.prepare('SELECT count(*) AS n FROM stats_pending').get()?.n ?? -1));
      } finally {
        db.close();
      }
    },
  });
}

function table(rows: readonly ModeResult[]): string {
  const [off] = rows;
  const pct = (value: number, base: number | undefined) =>
    base === undefined || base === 0 || value === base
      ? ''
      : ` (${value > base ? '+' : ''}${Math.round(((value - base) / base) * 100)}%)`;
  const lines = [
    '| tracing | cached read: CPU µs/req | req/s | create: CPU µs/req | req/s | drain: events/s | CPU µs/event |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.mode} | ${Math.round(r.read.cpuUsPerRequest)}${pct(r.read.cpuUsPerRequest, off?.read.cpuUsPerRequest)} | ${Math.round(r.read.rps)} | ${Math.round(r.create.cpuUsPerRequest)}${pct(r.create.cpuUsPerRequest, off?.create.cpuUsPerRequest)} | ${Math.round(r.create.rps)} | ${Math.round(r.drain.eventsPerSecond)}${pct(r.drain.eventsPerSecond, off?.drain.eventsPerSecond)} | ${Math.round(r.drain.cpuUsPerEvent)}${pct(r.drain.cpuUsPerEvent, off?.drain.cpuUsPerEvent)} |`,
    );
  }
  return lines.join('\n');
}
