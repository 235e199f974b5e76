/**
 * `npm run bench`: seeds realistic data, then measures the ceilings and our endpoints, the worker's
 * drain rate and the end-to-end lag, against the test bed and the embedded default (BENCH_TARGETS),
 * in one run. Prints the tables and writes them to docs/BENCHMARKS.md (keeping whatever
 * follows the end marker) with the raw results in scripts/bench/results/benchmarks.json (both in
 * BENCH_OUT_DIR when it is set). Settings: bench-config.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { benchOptions } from './bench-config.ts';
import { createContext, type TargetResult } from './context.ts';
import { describeEnvironment } from './environment.ts';
import { stopAll } from './processes.ts';
import { END, markdown, targetTables } from './report.ts';
import { runEmbedded } from './target-embedded.ts';
import { runTestbed, type TestbedUrls } from './target-testbed.ts';
import { verdicts } from './verdicts.ts';

// an interrupted run stops its server children rather than leaving them running
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal} received; stopping the servers it started and cleaning up\n`);
    void stopAll().finally(() => process.exit(130));
  });
}

const options = benchOptions();
const started = new Date();
const ctx = await createContext(options);
const urls = options.targets.includes('testbed') ? testbedUrls() : null;
const environment = await describeEnvironment(urls);
process.stderr.write(`bench ${ctx.runId}: work directory ${ctx.workDir}\n`);

const results: TargetResult[] = [];
let failed = false;
try {
  for (const target of options.targets) {
    const result =
      target === 'testbed' && urls !== null ? await runTestbed(ctx, urls) : await runEmbedded(ctx);
    results.push(result);
    process.stdout.write(`\n## ${result.name}\n\n${targetTables(result)}\n`);
  }
} catch (error) {
  failed = true;
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.stderr.write(`logs kept in ${ctx.workDir}\n`);
}
const tracing = !failed && options.parts.includes('tracing') ? tracingCost(options.quick) : null;
if (tracing !== null) process.stdout.write(`\n## Tracing: off against on\n\n${tracing}\n`);

if (results.length > 0) {
  const seconds = (Date.now() - started.getTime()) / 1000;
  mkdirSync(options.docsDir, { recursive: true });
  mkdirSync(options.resultsDir, { recursive: true });
  const mdPath = join(options.docsDir, 'BENCHMARKS.md');
  const previous = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '';
  const kept = previous.includes(END) ? previous.slice(previous.indexOf(END) + END.length) : '\n';
  const md = markdown(options, environment, results, started, seconds, tracing) + kept;
  const json = JSON.stringify({
    started_at: started.toISOString(),
    seconds,
    quick: options.quick,
    options,
    environment,
    targets: results.map((r) => ({ ...r, verdicts: verdicts(r) })),
  });
  // formatted as the repository's Prettier would, so the written files pass `npm run lint`
  writeFileSync(mdPath, await prettier.format(md, { ...(await config(mdPath)), filepath: mdPath }));
  const jsonPath = join(options.resultsDir, 'benchmarks.json');
  writeFileSync(jsonPath, await prettier.format(json, { ...(await config(jsonPath)), filepath: jsonPath }));
  process.stdout.write(`\nwrote ${mdPath} and ${jsonPath}\n`);
}
if (!failed && !options.keep) rmSync(ctx.workDir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);

/**
 * `npm run bench:tracing` (tracing off against on, on the embedded default) as a part of this run:
 * its table, or null (and the run failed) if it did not finish. A smoke run sizes it down too.
 */
function tracingCost(quick: boolean): string | null {
  const smoke = { BENCH_RUNS: '1', BENCH_INSTANCES: '1', BENCH_DURATION_S: '1', BENCH_DRAIN_EVENTS: '500' };
  const child = spawnSync(process.execPath, ['scripts/bench/tracing-cost.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    env: { ...process.env, ...(quick ? smoke : {}) },
  });
  if (child.status === 0) return child.stdout.trim();
  failed = true;
  process.stderr.write(`bench: the tracing part exited with ${child.status ?? child.signal ?? '?'}\n`);
  return null;
}

async function config(path: string): Promise<prettier.Options> {
  return (await prettier.resolveConfig(path)) ?? {};
}

/** The test bed's URLs from the environment, or from `services:up` (as `npm test` does). */
function testbedUrls(): TestbedUrls {
  let { MONGODB_URL: mongodb, REDIS_URL: redis, KAFKA_BROKERS: kafka } = process.env;
  if (!mongodb || !redis || !kafka) {
    const up = spawnSync('bash', ['scripts/testbed/up.sh'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    });
    if (up.status !== 0) throw new Error('the test bed did not come up; see above');
    const found = Object.fromEntries(
      up.stdout.split('\n').flatMap((line) => {
        const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
        return match?.[1] && match[2] ? [[match[1], match[2]]] : [];
      }),
    ) as Record<string, string | undefined>;
    ({ MONGODB_URL: mongodb, REDIS_URL: redis, KAFKA_BROKERS: kafka } = found);
  }
  if (!mongodb || !redis || !kafka)
    throw new Error('the test bed printed no MONGODB_URL, REDIS_URL or KAFKA_BROKERS');
  return { mongodb, redis, kafka };
}
