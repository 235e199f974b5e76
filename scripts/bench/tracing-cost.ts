/**
 * `npm run bench:tracing`: what tracing costs on the embedded default (ROLE=all, as `npm start`
 * runs), off against on, exporting over OTLP/HTTP to a real endpoint: the test bed's Jaeger when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (npm run services:up prints it), else a local receiver that
 * accepts and discards. Per mode: server CPU µs per request for a cached history read and for a
 * create, and the worker's drain rate (events/s, CPU µs per event). Prints a Markdown table
 * (docs/TRACING.md keeps the latest).
 *
 * The machine is noisy, and one process differs from another of the same build by several
 * percent (JIT and memory layout), more than the effect measured. So every mode runs in
 * BENCH_INSTANCES processes at once, and each round measures every process in turn, in a rotated
 * order: a mode's figure is the median of its rounds over its processes, all taken in the same
 * minutes as the other modes'. BENCH_DURATION_S, BENCH_RUNS (rounds), BENCH_INSTANCES and
 * BENCH_DRAIN_EVENTS size it.
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
import { measure, percentile, type LoadRequest } from './load.ts';
import { startChild, stopAll, type Child } from './processes.ts';
import { writeBodies } from './scenarios.ts';
import { seedDataset } from './seed.ts';
import { seedEmbedded } from './seed-embedded.ts';

interface Mode {
  readonly name: string;
  readonly env: Record<string, string>;
}
interface Server {
  readonly mode: Mode;
  readonly child: Child;
  readonly read: LoadRequest;
  readonly create: LoadRequest;
}
/** Medians over rounds and processes, with the middle half's range (the noise). */
interface Figure {
  readonly median: number;
  readonly low: number;
  readonly high: number;
}
interface ModeResult {
  readonly mode: string;
  readonly read: Figure;
  readonly readRps: number;
  readonly create: Figure;
  readonly createRps: number;
  readonly drain: DrainResult;
}

const int = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const settings = {
  durationS: int('BENCH_DURATION_S', 5),
  rounds: int('BENCH_RUNS', 5),
  instances: int('BENCH_INSTANCES', 2),
  connections: 8,
};
const drainEvents = int('BENCH_DRAIN_EVENTS', 20_000);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopAll().finally(() => process.exit(130)));
}

const sink = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? null : await startOtlpSink();
const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? sink?.endpoint ?? '';
const modes: Mode[] = [
  { name: 'off', env: {} },
  {
    name: 'on, the default: every write, 1% of reads',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
  },
  {
    name: 'on, 1% of writes too (TRACES_WRITE_SAMPLE_RATIO=0.01)',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, TRACES_WRITE_SAMPLE_RATIO: '0.01' },
  },
  {
    name: 'on, 1% of all traces, writes too (parentbased_traceidratio 0.01)',
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
    },
  },
  {
    name: 'on, every trace (OTEL_TRACES_SAMPLER=parentbased_always_on)',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
  },
];

const ctx = await createContext(benchOptions({ ...process.env, BENCH_TARGETS: 'embedded' }));
process.stderr.write(
  `tracing bench ${ctx.runId}: exporting to ${endpoint}${sink ? ' (a local OTLP sink)' : ''}\n`,
);
const results: ModeResult[] = [];
try {
  const servers = await startServers(ctx);
  const reads = await rounds(servers, (server) => server.read, 'cached read');
  const creates = await rounds(servers, (server) => server.create, 'create');
  await stopAll();
  for (const [i, mode] of modes.entries()) {
    process.stderr.write(`\n== drain, tracing ${mode.name}\n`);
    const read = reads.get(mode) ?? [];
    const create = creates.get(mode) ?? [];
    results.push({
      mode: mode.name,
      read: figure(read.map((r) => r.cpu)),
      readRps: figure(read.map((r) => r.rps)).median,
      create: figure(create.map((r) => r.cpu)),
      createRps: figure(create.map((r) => r.rps)).median,
      drain: await drain(ctx, mode, i),
    });
  }
} finally {
  await stopAll();
  await sink?.close();
  if (process.env.BENCH_KEEP !== '1') rmSync(ctx.workDir, { recursive: true, force: true });
}
process.stdout.write(`\n${table(results)}\n`);

/**
 * BENCH_INSTANCES processes per mode, all serving at once, each with a reader's history cached;
 * listed instance by instance (every mode's first, then every mode's second), so a mode's
 * processes are measured at different moments of a round.
 */
async function startServers(context: RunContext): Promise<Server[]> {
  const auth = { authorization: `Bearer ${context.token}` };
  const servers: Server[] = [];
  for (let k = 0; k < settings.instances; k++) {
    for (const [m, mode] of modes.entries()) {
      const name = `http-${m}-${k}`;
      const child = await startChild({
        script: 'src/main.ts',
        env: {
          ...serviceEnv(context),
          ...mode.env,
          LOG_LEVEL: 'warn',
          DATA_DIR: join(context.workDir, name),
          ROLE: 'all',
        },
        logFile: join(context.workDir, `${name}.log`),
        readyPath: '/health/ready',
      });
      const writers = Array.from({ length: 200 }, (_, i) => `b${context.runId}-${name}-w${i}`);
      const reader = writers[0] ?? '';
      const bodies = writeBodies([reader], 3);
      for (let i = 0; i < 60; i++) {
        const res = await fetch(`${child.url}/api/v1/transactions`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: bodies(),
        });
        if (res.status !== 201) throw new Error(`seeding answered ${res.status}: ${await res.text()}`);
      }
      servers.push({
        mode,
        child,
        read: { method: 'GET', path: `/api/v1/users/${reader}/transactions`, headers: auth },
        create: {
          method: 'POST',
          path: '/api/v1/transactions',
          headers: { ...auth, 'content-type': 'application/json' },
          body: writeBodies(writers, 11),
        },
      });
    }
  }
  return servers;
}

/**
 * A warm-up pass, then BENCH_RUNS rounds; each round measures every server once, starting one
 * further along the list than the round before, so no mode is always measured first or last.
 */
async function rounds(
  servers: readonly Server[],
  request: (server: Server) => LoadRequest,
  label: string,
): Promise<Map<Mode, { cpu: number; rps: number }[]>> {
  const byMode = new Map<Mode, { cpu: number; rps: number }[]>();
  const run = (server: Server, durationS: number) =>
    measure(server.child, request(server), {
      durationS,
      warmupS: 0,
      runs: 1,
      connections: settings.connections,
    });
  for (const server of servers) await run(server, 2);
  for (let round = 0; round < settings.rounds; round++) {
    process.stderr.write(`${label}: round ${round + 1} of ${settings.rounds}\n`);
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(i + round) % servers.length];
      if (server === undefined) continue;
      const { median } = await run(server, settings.durationS);
      if (median.errors > 0) throw new Error(`${label} (${server.mode.name}): ${median.errors} errors`);
      const list = byMode.get(server.mode) ?? [];
      list.push({ cpu: median.cpuUsPerRequest, rps: median.rps });
      byMode.set(server.mode, list);
    }
  }
  return byMode;
}

function figure(values: readonly number[]): Figure {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 0.5), low: percentile(sorted, 0.25), high: percentile(sorted, 0.75) };
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
  const cpu = (f: Figure, base: Figure | undefined) =>
    `${Math.round(f.median)}${pct(f.median, base?.median)} [${Math.round(f.low)}–${Math.round(f.high)}]`;
  const lines = [
    '| tracing | cached read: CPU µs/req [middle half] | req/s | create: CPU µs/req [middle half] | req/s | drain: events/s | CPU µs/event |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.mode} | ${cpu(r.read, off?.read)} | ${Math.round(r.readRps)} | ${cpu(r.create, off?.create)} | ${Math.round(r.createRps)} | ${Math.round(r.drain.eventsPerSecond)}${pct(r.drain.eventsPerSecond, off?.drain.eventsPerSecond)} | ${Math.round(r.drain.cpuUsPerEvent)}${pct(r.drain.cpuUsPerEvent, off?.drain.cpuUsPerEvent)} |`,
    );
  }
  return lines.join('\n');
}
