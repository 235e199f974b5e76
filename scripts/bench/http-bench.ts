import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure, type LoadRequest, type LoadSettings, type RunResult } from './load.ts';
import { startChild, type Child } from './processes.ts';
import type { Scenario } from './scenarios.ts';

export interface HttpTarget {
  readonly name: string;
  readonly workDir: string;
  /** Environment of a service child serving `dataset` with the read cache on or off. */
  serviceEnv(dataset: Scenario['dataset'], cache: 'on' | 'off'): Record<string, string>;
  /** Environment of the ceilings child (bodies file and raw-route settings added by the caller). */
  ceilingsEnv(bodiesFile: string, cacheValue: string): Record<string, string>;
  /** True when both datasets are the same store (one service child serves both). */
  readonly oneDataset: boolean;
}

export interface ScenarioOutcome {
  readonly scenario: Scenario;
  readonly runs: RunResult[];
  readonly median: RunResult;
}

/**
 * Runs one target's HTTP scenarios, one server child at a time: the uncached service, then the
 * ceilings (given the answers the service just gave, for the bare routes), then the cached
 * service, the create scenario last so its writes cannot disturb a read scenario.
 */
export async function runHttpScenarios(
  target: HttpTarget,
  scenarios: readonly Scenario[],
  settings: LoadSettings,
): Promise<ScenarioOutcome[]> {
  const outcomes: ScenarioOutcome[] = [];
  const bodies: Record<string, string> = {};
  const datasets = target.oneDataset ? [null] : (['analytics', 'pages'] as const);
  const ours = (cache: 'on' | 'off', dataset: Scenario['dataset'] | null) =>
    scenarios.filter(
      (s) => s.kind === 'ours' && s.cache === cache && (dataset === null || s.dataset === dataset),
    );

  const run = async (child: Child, list: readonly Scenario[]) => {
    for (const scenario of list) {
      if (scenario.capture !== undefined && bodies[scenario.capture] === undefined) {
        bodies[scenario.capture] = await capture(child, scenario);
      }
      process.stderr.write(`${target.name}: ${scenario.id} ...\n`);
      const request = scenario.conditional === true ? await conditional(child, scenario) : scenario.request;
      const { runs, median } = await measure(child, request, settings);
      outcomes.push({ scenario, runs, median });
      process.stderr.write(
        `${target.name}: ${scenario.id} ${median.rps.toFixed(0)} req/s, p99 ${median.p99.toFixed(2)} ms, ` +
          `errors ${median.errors}\n`,
      );
    }
  };

  for (const cache of ['off', 'on'] as const) {
    for (const dataset of datasets) {
      const list = ours(cache, dataset);
      if (list.length === 0) continue;
      const label = `${target.name}-service-cache-${cache}-${dataset ?? 'all'}`;
      const child = await startChild({
        script: 'src/main.ts',
        env: target.serviceEnv(dataset ?? 'pages', cache),
        logFile: join(target.workDir, `${label}.log`),
        readyPath: '/health/ready',
      });
      try {
        await run(child, list);
      } finally {
        await child.stop();
      }
    }
    if (cache === 'off') {
      const bodiesFile = join(target.workDir, 'bodies.json');
      writeFileSync(bodiesFile, JSON.stringify(bodies));
      const child = await startChild({
        script: 'scripts/bench/ceilings-server.ts',
        env: target.ceilingsEnv(bodiesFile, bodies.analytics ?? '{}'),
        logFile: join(target.workDir, `${target.name}-ceilings.log`),
        readyPath: '/ready',
      });
      try {
        await run(
          child,
          scenarios.filter((s) => s.kind === 'ceiling'),
        );
      } finally {
        await child.stop();
      }
    }
  }
  return outcomes;
}

/** The scenario's request with If-None-Match holding the tag of the answer now (304 expected). */
async function conditional(child: Child, scenario: Scenario): Promise<LoadRequest> {
  const response = await fetch(`${child.url}${scenario.request.path}`, {
    headers: scenario.request.headers,
    signal: AbortSignal.timeout(60_000),
  });
  await response.text();
  const tag = response.headers.get('etag');
  if (response.status !== 200 || tag === null) {
    throw new Error(`${scenario.id}: ${scenario.request.path} answered ${response.status} with ETag ${tag}`);
  }
  return {
    ...scenario.request,
    headers: { ...scenario.request.headers, 'if-none-match': tag },
    expectStatus: 304,
  };
}

/** One request to keep the answer for the bare route; anything but 200 stops the run. */
async function capture(child: Child, scenario: Scenario): Promise<string> {
  const response = await fetch(`${child.url}${scenario.request.path}`, {
    headers: scenario.request.headers,
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`${scenario.id}: ${scenario.request.path} answered ${response.status}: ${text}`);
  }
  return text;
}
