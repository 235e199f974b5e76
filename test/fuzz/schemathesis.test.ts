/**
 * API fuzzing: schemathesis (pinned in scripts/fuzz/requirements.txt) runs every default check
 * against the service's own /openapi.json, with a service token, on both stores. Any server error,
 * response that breaks its declared schema, status or content type the document does not declare,
 * or request the API handles against its schema fails the test with schemathesis's report.
 * Bounded: a fixed example budget per operation, a fixed seed, and a wall-clock limit.
 * scripts/fuzz/schemathesis.toml and hooks.py say which checks are relaxed where, and why.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { STORE_KINDS, startApp, tokenFor, type TestApp } from '../helpers.ts';

const FUZZ_DIR = join(import.meta.dirname, '..', '..', 'scripts', 'fuzz');
const EXAMPLES_PER_OPERATION = 50;
const SEED = 20241005;
const INSTALL_TIMEOUT_MS = 300_000;
// bounded, with room for the slower MongoDB-protocol test bed on a busy 2-core machine (18 operations)
const RUN_TIMEOUT_MS = 360_000;

/** Installs the pinned schemathesis (a no-op when it is there) and returns its `st` executable. */
function installSchemathesis(): string {
  const result = spawnSync('bash', [join(FUZZ_DIR, 'install.sh')], {
    encoding: 'utf8',
    timeout: INSTALL_TIMEOUT_MS,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0) {
    throw new Error(
      `scripts/fuzz/install.sh failed (${result.error?.message ?? `exit ${String(result.status ?? result.signal)}`}):\n${result.stderr}`,
    );
  }
  const st = result.stdout.trim().split('\n').at(-1);
  if (st === undefined || !st.endsWith('/st'))
    throw new Error(`install.sh printed no st path:\n${result.stdout}`);
  return st;
}

/** Requests go to the loopback server directly, never through a proxy from the environment. */
function loopbackEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(https?|all|no)_proxy$/i.test(name)) env[name] = value;
  }
  return {
    ...env,
    NO_PROXY: '*',
    SCHEMATHESIS_HOOKS: join(FUZZ_DIR, 'hooks.py'),
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

interface RunResult {
  readonly code: number | null;
  readonly output: string;
  readonly timedOut: boolean;
}

/** Runs `st` asynchronously (the app under test serves from this same event loop). */
function runSchemathesis(st: string, args: readonly string[], cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(st, args, { cwd, env: loopbackEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: Buffer.concat(chunks).toString('utf8'), timedOut });
    });
  });
}

describe('schemathesis against /openapi.json', () => {
  let st: string;
  before(() => {
    st = installSchemathesis();
  });

  for (const store of STORE_KINDS) {
    describe(`on the ${store} store`, () => {
      let testApp: TestApp | undefined;
      let workDir: string | undefined;
      before(async () => {
        testApp = await startApp(
          store,
          {
            // the fuzzer is one client sending ~1,100 requests: past its rate budget every answer
            // would be a 429, which each check accepts, and the rest of the run would test nothing
            RATE_LIMIT_MAX: '1000000',
            // the in-process worker polls less eagerly than the helper's default, to leave the
            // two cores to the API under test
            RELAY_POLL_MS: '100',
          },
          // role `all`, as deployed by default: the worker keeps analytics current
          { worker: true },
        );
        await testApp.app.listen({ port: 0, host: '127.0.0.1' });
        workDir = mkdtempSync(join(tmpdir(), 'fido-fuzz-'));
      });
      after(async () => {
        await testApp?.close();
        if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
      });

      it(
        'finds no server error, schema violation or undeclared behaviour with every check',
        { timeout: RUN_TIMEOUT_MS + 30_000 },
        async () => {
          assert.ok(testApp !== undefined && workDir !== undefined);
          const address = testApp.app.server.address();
          assert.ok(address !== null && typeof address === 'object');
          const token = await tokenFor({ scope: 'service', expiresIn: 3_600 });
          const args = [
            '--config-file',
            join(FUZZ_DIR, 'schemathesis.toml'),
            'run',
            `http://127.0.0.1:${address.port}/openapi.json`,
            '--header',
            `Authorization: Bearer ${token}`,
            '--checks',
            'all',
            '--max-examples',
            String(EXAMPLES_PER_OPERATION),
            '--seed',
            String(SEED),
            '--workers',
            '1',
            '--request-timeout',
            '10',
            '--no-color',
          ];
          const result = await runSchemathesis(st, args, workDir);
          const command = args.map((a) =>
            a.startsWith('Authorization:') ? "'Authorization: Bearer <token>'" : a,
          );
          const report = `\n--- ${store} store: st ${command.join(' ')} ---\n${result.output}`;
          assert.ok(!result.timedOut, `schemathesis did not finish within ${RUN_TIMEOUT_MS} ms${report}`);
          assert.equal(result.code, 0, `schemathesis found failures${report}`);
          // a schema that lost its operations would pass vacuously
          const selected = /Selected: (\d+)\/(\d+)/.exec(result.output);
          const tested = /Tested: (\d+)/.exec(result.output);
          assert.ok(selected && tested, `no operation summary${report}`);
          assert.ok(Number(tested[1]) >= 9 && tested[1] === selected[2], `not every operation ran${report}`);
        },
      );
    });
  }
});
