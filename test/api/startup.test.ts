import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { eventually } from '../helpers.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.ts');
const HEALTHCHECK = join(import.meta.dirname, '..', '..', 'src', 'healthcheck.ts');

function runMain(env: Record<string, string>) {
  return spawnSync(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 15_000,
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('process start', () => {
  for (const [name, value, expected] of [
    ['PORT', 'abc', /^Invalid configuration: PORT="abc" is invalid: expected an integer TCP port/],
    [
      'MONGODB_URL',
      'not a url',
      /^Invalid configuration: MONGODB_URL="not a url" is invalid: expected a mongodb:\/\//,
    ],
    [
      'ROLE',
      'cook',
      /^Invalid configuration: ROLE="cook" is invalid: expected which part runs: api, worker or all/,
    ],
  ] as const) {
    it(`a bad ${name} stops the process before it listens, with one line naming it`, () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fido-start-'));
      const result = runMain({ [name]: value, DATA_DIR: dataDir });
      rmSync(dataDir, { recursive: true, force: true });
      assert.equal(result.status, 2);
      assert.equal(result.stdout, '');
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0] ?? '', expected);
    });
  }

  it('an unreadable ALERT_RULES_FILE stops a worker at start; an API, which raises no alerts, starts without it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fido-start-'));
    const missing = join(dataDir, 'no-such-rules.json');
    try {
      const worker = runMain({ ROLE: 'worker', DATA_DIR: dataDir, ALERT_RULES_FILE: missing });
      assert.notEqual(worker.status, 0, worker.stderr);
      assert.match(worker.stderr, /alert rules .*no-such-rules\.json: cannot be read/);
      const port = await freePort();
      const api = spawn(process.execPath, [MAIN], {
        env: {
          PATH: process.env.PATH ?? '',
          DATA_DIR: dataDir,
          PORT: String(port),
          ROLE: 'api',
          ALERT_RULES_FILE: missing,
        },
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((resolve) => api.on('exit', resolve));
      try {
        await eventually(async () => {
          const res = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
          return res?.status === 200 ? res : undefined;
        }, 10_000);
        api.kill('SIGTERM');
        assert.equal(await exited, 0);
      } finally {
        api.kill('SIGKILL');
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('starts on embedded defaults with no other setup, answers health and docs, stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fido-start-'));
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const base = `http://127.0.0.1:${port}`;
      const ready = await eventually(async () => {
        const res = await fetch(`${base}/health/ready`).catch(() => undefined);
        return res?.status === 200 ? res : undefined;
      }, 10_000);
      assert.equal(((await ready.json()) as { status: string }).status, 'ready');
      assert.equal((await fetch(`${base}/health/live`)).status, 200);
      const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as {
        openapi: string;
        paths: Record<string, unknown>;
      };
      assert.equal(openapi.openapi, '3.1.0');
      assert.ok('/api/v1/transactions' in openapi.paths);
      const docs = await fetch(`${base}/docs`);
      assert.equal(docs.status, 200);
      assert.match(await docs.text(), /swagger/i);
      assert.equal(statSync(join(dataDir, 'encryption-keys')).mode & 0o777, 0o600);
      assert.match(output, /generated a local encryption key/);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('as a worker, serves health and metrics on METRICS_PORT and no API; the container healthcheck follows', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fido-start-'));
    const [port, metricsPort] = [await freePort(), await freePort()];
    const env = {
      PATH: process.env.PATH ?? '',
      DATA_DIR: dataDir,
      ROLE: 'worker',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
    };
    const healthcheck = () =>
      spawnSync(process.execPath, [HEALTHCHECK], { env, encoding: 'utf8', timeout: 15_000 }).status;
    const child = spawn(process.execPath, [MAIN], { env, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const base = `http://127.0.0.1:${metricsPort}`;
      await eventually(async () => {
        const res = await fetch(`${base}/health/ready`).catch(() => undefined);
        return res?.status === 200 ? res : undefined;
      }, 10_000);
      assert.equal((await fetch(`${base}/health/live`)).status, 200);
      const metrics = await fetch(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /^fido_outbox_backlog \d+$/m);
      assert.equal((await fetch(`${base}/api/v1/transactions/x`)).status, 404);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/health/live`), 'nothing listens on PORT');
      assert.equal(healthcheck(), 0);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.equal(healthcheck(), 1);
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
