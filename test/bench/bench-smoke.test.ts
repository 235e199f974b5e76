import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

/** The parts of benchmarks.json this test reads. */
interface Report {
  readonly quick: boolean;
  readonly targets: readonly {
    readonly name: string;
    readonly http: readonly {
      readonly scenario: { readonly id: string };
      readonly median: Readonly<Record<string, number>> & { readonly statusCodes: unknown };
    }[];
    readonly drain: {
      readonly drained: boolean;
      readonly remainingMarkers: number;
      readonly eventsPerSecond: number;
    };
    readonly lag: { readonly errors: number; readonly unresolved: number; readonly acknowledged: number };
    readonly verdicts: readonly { readonly goal: string; readonly met: boolean }[];
  }[];
}

/**
 * `npm run bench` in its quickest mode on tiny data against the embedded default: it must run
 * every part (seed, ceilings, our endpoints, worker drain, end-to-end lag) to the end and write a
 * well-formed report with no failed request. No assertion on speed: numbers are for people.
 */
describe('npm run bench (BENCH_QUICK=1, embedded)', () => {
  it('measures every scenario with 0 errors and writes the report', { timeout: 300_000 }, async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'fido-bench-smoke-'));
    try {
      const { code, stderr } = await run(outDir);
      assert.equal(code, 0, `bench exited with ${code}:\n${stderr.slice(-3000)}`);

      const report = JSON.parse(readFileSync(join(outDir, 'benchmarks.json'), 'utf8')) as Report;
      assert.equal(report.quick, true);
      assert.equal(report.targets.length, 1);
      const target = report.targets[0];
      assert.ok(target);
      assert.equal(target.name, 'embedded');
      const ids = target.http.map((o) => o.scenario.id).sort();
      assert.deepEqual(ids, [
        'analytics-10-cached',
        'analytics-10-uncached',
        'analytics-100-cached',
        'analytics-100-uncached',
        'analytics-400-cached',
        'analytics-400-uncached',
        'bare-analytics',
        'bare-credit-score',
        'bare-history',
        'create',
        'credit-score-cached',
        'credit-score-cached-304',
        'credit-score-uncached',
        'history-cached',
        'history-cached-304',
        'history-uncached',
        'raw-find',
        'raw-insert',
      ]);
      for (const outcome of target.http) {
        const { median } = outcome;
        assert.ok((median.requests ?? 0) > 0, `${outcome.scenario.id} made no request`);
        assert.equal(median.errors, 0, `${outcome.scenario.id}: ${JSON.stringify(median.statusCodes)}`);
        for (const field of ['rps', 'p50', 'p99', 'p999', 'cpuUsPerRequest']) {
          const value = median[field] ?? Number.NaN;
          assert.ok(Number.isFinite(value) && value >= 0, `${outcome.scenario.id}.${field}`);
        }
      }
      assert.equal(target.drain.drained, true);
      assert.equal(target.drain.remainingMarkers, 0);
      assert.ok(target.drain.eventsPerSecond > 0);
      assert.equal(target.lag.errors, 0);
      assert.equal(target.lag.unresolved, 0);
      assert.ok(target.lag.acknowledged > 0);
      const errorsVerdict = target.verdicts.find((v) => v.goal.startsWith('errors'));
      assert.equal(errorsVerdict?.met, true);

      const markdown = readFileSync(join(outDir, 'BENCHMARKS.md'), 'utf8');
      assert.match(markdown, /Smoke run \(BENCH_QUICK=1\)/);
      assert.match(markdown, /\| GET history page \(50\), cached +\|/);
      // a polling client's conditional read: every answer a 304, counted as no error
      const polled = target.http.find((o) => o.scenario.id === 'history-cached-304');
      const codes = (polled?.median.statusCodes ?? {}) as Record<string, number>;
      assert.ok((codes['304'] ?? 0) > 0, 'the conditional reads were answered 304');
      assert.match(markdown, /### Targets/);
      // the tracing part: tracing off and on side by side, every mode with its figures
      assert.match(markdown, /## Tracing: off against on/);
      assert.match(markdown, /\| off +\| +\d+ \[\d+–\d+\] +\|/);
      assert.match(
        markdown,
        /\| on, the default: every write, 1% of reads +\| +\d+( \([+-]?\d+%\))? \[\d+–\d+\] +\|/,
      );
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});

function run(outDir: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/bench/bench.ts'], {
      // only what the harness reads: no test-bed URLs leak into the embedded target
      env: {
        PATH: process.env.PATH ?? '',
        BENCH_QUICK: '1',
        BENCH_TARGETS: 'embedded',
        BENCH_OUT_DIR: outDir,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      // SIGTERM lets the harness stop its own server children before it goes
      signal: AbortSignal.timeout(290_000),
      killSignal: 'SIGTERM',
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) => {
      if (error.name !== 'AbortError') reject(error);
    });
    child.once('exit', (code) => {
      resolve({ code, stderr });
    });
  });
}
