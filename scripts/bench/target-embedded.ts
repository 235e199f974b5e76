import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openEmbeddedBus } from '../../src/adapters/embedded-bus/embedded-bus.ts';
import {
  datasetReport,
  serviceEnv,
  scenarioUsers,
  type DatasetReport,
  type RunContext,
  type TargetResult,
} from './context.ts';
import { planUsers, random } from './dataset.ts';
import { drainBacklog, publishBacklog, type DrainResult } from './drain-bench.ts';
import { runHttpScenarios, type ScenarioOutcome } from './http-bench.ts';
import { measureLag, type LagResult } from './lag-bench.ts';
import { startChild } from './processes.ts';
import { scenariosFor, selectScenarios } from './scenarios.ts';
import { seedDataset, verifySteadyState } from './seed.ts';
import { seedEmbedded } from './seed-embedded.ts';

/**
 * The embedded default (`npm start` with no servers configured): SQLite files under DATA_DIR for
 * the store and the event log, the in-memory cache, ROLE=all (API and worker in one process).
 */
export async function runEmbedded(ctx: RunContext): Promise<TargetResult> {
  const datasets: Record<string, DatasetReport> = {};
  const parts = ctx.options.parts;
  const http = parts.includes('http') ? await httpScenarios(ctx, datasets) : [];
  const drain = parts.includes('drain') ? await drainScenario(ctx, datasets) : null;
  const lag = parts.includes('lag') ? await lagScenario(ctx) : null;
  return {
    name: 'embedded',
    conditions: [
      'store and event log: SQLite (node:sqlite) in WAL mode with synchronous=FULL: every commit is fsynced before it returns (survives a power cut), on the event loop',
      'cache: the in-process LRU; ROLE=all (API, outbox relay and worker in one process), as `npm start` runs',
      'ceilings: raw SQL on the same file for reads; record + event in one transaction, on a file with the same settings, for the insert; no cache server, so no raw cache GET',
    ],
    datasets,
    http,
    drain,
    lag,
  };
}

async function httpScenarios(
  ctx: RunContext,
  datasets: Record<string, DatasetReport>,
): Promise<ScenarioOutcome[]> {
  const { options, keyring, now } = ctx;
  const prefix = `b${ctx.runId}-`;
  const base = serviceEnv(ctx);
  const dataDir = join(ctx.workDir, 'embedded-data');
  const users = planUsers(prefix, options.embedded, random(1));
  const seeded = await seedEmbedded(dataDir, 'steady', async (sink) => {
    const result = await seedDataset(sink, {
      label: 'embedded',
      users,
      keyring,
      seed: 11,
      now,
      mode: 'steady',
    });
    const sample = users.filter((u, i) => u.tier !== null || i === 0).map((u) => u.id);
    await verifySteadyState(sink.stats, sample, now);
    return result;
  });
  datasets.all = datasetReport(seeded, options.embedded.tiers);
  const who = scenarioUsers(users, users, prefix);
  return runHttpScenarios(
    {
      name: 'embedded',
      workDir: ctx.workDir,
      oneDataset: true,
      serviceEnv: (_dataset, cache) => ({
        ...base,
        DATA_DIR: dataDir,
        ROLE: 'all',
        ...(cache === 'off' && { CACHE_TTL_MS: '0' }),
      }),
      ceilingsEnv: (bodiesFile) => ({
        PATH: base.PATH ?? '',
        LOG_LEVEL: base.LOG_LEVEL ?? 'info',
        DATA_DIR: dataDir,
        BENCH_BODIES_FILE: bodiesFile,
        BENCH_HISTORY_USER: who.historyUser,
      }),
    },
    selectScenarios(scenariosFor(who, ctx.token, false), options.scenarios),
    options,
  );
}

/** A fresh directory whose event log holds the backlog, its writes committed and unprojected. */
async function drainScenario(ctx: RunContext, datasets: Record<string, DatasetReport>): Promise<DrainResult> {
  const { options, keyring, now } = ctx;
  const dir = join(ctx.workDir, 'embedded-drain');
  const count = options.drain.embeddedEvents;
  const size = { users: Math.ceil(count / 20), transactions: count, tiers: [] };
  const users = planUsers(`b${ctx.runId}-d`, size, random(2));
  const backlog = await seedEmbedded(dir, 'backlog', (sink) =>
    seedDataset(sink, { label: 'embedded backlog', users, keyring, seed: 12, now, mode: 'backlog' }),
  );
  datasets.drain = datasetReport(backlog, []);
  const bus = await openEmbeddedBus(dir);
  await publishBacklog(bus, '', 6, backlog.events);
  await bus.close();
  return drainBacklog({
    name: 'embedded',
    workDir: ctx.workDir,
    env: { ...serviceEnv(ctx), DATA_DIR: dir, ROLE: 'worker' },
    events: count,
    users: users.length,
    deadlineS: options.drain.deadlineS,
    remainingMarkers: () => Promise.resolve(countMarkers(dir)),
  });
}

/** A fresh directory, API and worker in one process as `npm start` runs them. */
async function lagScenario(ctx: RunContext): Promise<LagResult> {
  const dir = join(ctx.workDir, 'embedded-lag');
  const api = await startChild({
    script: 'src/main.ts',
    env: { ...serviceEnv(ctx), DATA_DIR: dir, ROLE: 'all' },
    logFile: join(ctx.workDir, 'embedded-lag-service.log'),
    readyPath: '/health/ready',
  });
  const markers = new DatabaseSync(join(dir, 'fido.sqlite'), { timeout: 5000 });
  const pendingIds = markers.prepare('SELECT transaction_id FROM stats_pending');
  try {
    return await measureLag({
      url: api.url,
      token: ctx.token,
      writers: Array.from({ length: 1000 }, (_, i) => `b${ctx.runId}-lag${i}`),
      ...ctx.options.lag,
      pendingIds: () => Promise.resolve(new Set(pendingIds.all().map((r) => String(r.transaction_id)))),
    });
  } finally {
    markers.close();
    await api.stop();
  }
}

function countMarkers(dataDir: string): number {
  const db = new DatabaseSync(join(dataDir, 'fido.sqlite'), { timeout: 5000 });
  try {
    return Number(db.prepare('SELECT count(*) AS n FROM stats_pending').get()?.n ?? -1);
  } finally {
    db.close();
  }
}
