import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startOtlpSink } from '../../scripts/telemetry/otlp-sink.ts';
import { eventually } from '../helpers.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.ts');
const RECORDER = join(import.meta.dirname, 'record-loaded-modules.ts');
/**
 * The SDK, its exporters and instrumentations, and the module hooks they install. Not the API
 * package (@opentelemetry/api): prom-client loads it in every process, tracing or not (its CPU
 * metric reads exemplars through it), and without an SDK it is a set of no-ops.
 */
const TRACING_MODULES =
  /\/node_modules\/(@opentelemetry\/(?!api\/)|import-in-the-middle\/|require-in-the-middle\/)/;

/**
 * `npm start` as a user runs it (the embedded default, role all), with the modules it loads
 * recorded; answers one write through the API, then stops on SIGTERM.
 */
async function runOnce(env: Record<string, string>): Promise<{ modules: string[]; exitCode: number | null }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fido-tracing-'));
  const record = join(dataDir, 'modules.json');
  const child = spawn(process.execPath, ['--import', RECORDER, MAIN], {
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PORT: '0', RECORD_MODULES_TO: record, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    const address = await eventually(
      () => Promise.resolve(/"address":"(http:\/\/[^"]+)"/.exec(output)?.[1]),
      15_000,
    );
    // an API write (refused without a token): the HTTP instrumentation's work when on, and a
    // span the default sampler records (every write; reads at 1%)
    assert.equal((await fetch(`${address}/api/v1/transactions`, { method: 'POST' })).status, 401);
    child.kill('SIGTERM');
    const exitCode = await exited;
    return { modules: JSON.parse(readFileSync(record, 'utf8')) as string[], exitCode };
  } finally {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('tracing off and on', () => {
  it('with OTEL_EXPORTER_OTLP_ENDPOINT unset, loads none of the OpenTelemetry SDK, its instrumentations or module hooks', async () => {
    const { modules, exitCode } = await runOnce({});
    assert.equal(exitCode, 0);
    assert.ok(
      modules.some((url) => url.includes('/node_modules/fastify/')),
      'the recorder saw the app load',
    );
    assert.deepEqual(
      modules.filter((url) => TRACING_MODULES.test(url)),
      [],
    );
  });

  it('with it set, loads the SDK, exports spans, and flushes them at shutdown', async () => {
    const sink = await startOtlpSink();
    try {
      // a long batch delay: only the shutdown step can have sent the spans
      const { modules, exitCode } = await runOnce({
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '600000',
      });
      assert.equal(exitCode, 0);
      assert.ok(modules.some((url) => url.includes('/node_modules/@opentelemetry/sdk-node/')));
      assert.ok(sink.exports().requests > 0, 'no spans were exported');
    } finally {
      await sink.close();
    }
  });
});
