/**
 * `npm test`: provisions what the tests need, then runs them, so a fresh clone needs only `npm ci`
 * before it (CI runs exactly that). In order, and stops at the first failure:
 * 1. the programs the tests run besides the servers, each installed from Debian's packages when
 *    missing and root, else one line saying what to install: the browser the console tests drive
 *    (scripts/testbed/ensure-browser.sh) and HAProxy (scripts/testbed/ensure-haproxy.sh);
 * 2. for the whole suite (no file arguments): the type check and the linter, as CI checks them;
 * 3. the test bed (idempotent; real Redis, Kafka, a MongoDB-protocol server and Jaeger on loopback);
 * 4. every test file (or those given) with the URLs that reach the servers.
 */
import { spawn, spawnSync } from 'node:child_process';

const patterns = process.argv.slice(2);

function stopUnless(ok: boolean, why: string): void {
  if (ok) return;
  if (why !== '') process.stderr.write(`${why}\n`);
  process.exit(1);
}

// one after the other (apt-get takes a lock); each prints its own one-line reason
for (const script of ['ensure-browser.sh', 'ensure-haproxy.sh']) {
  stopUnless(spawnSync('bash', [`scripts/testbed/${script}`], { stdio: 'inherit' }).status === 0, '');
}

if (patterns.length === 0) {
  for (const script of ['typecheck', 'lint']) {
    process.stdout.write(`npm test: npm run ${script}\n`);
    const run = spawnSync('npm', ['run', '--silent', script], { stdio: 'inherit' });
    stopUnless(run.status === 0, `npm test: \`npm run ${script}\` failed; no test was run`);
  }
}

const up = spawnSync('bash', ['scripts/testbed/up.sh'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
});
stopUnless(up.status === 0, 'test bed did not come up; see above');
const env: Record<string, string> = {};
for (const line of up.stdout.split('\n')) {
  const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
  if (match?.[1] !== undefined && match[2] !== undefined) env[match[1]] = match[2];
}
for (const name of [
  'MONGODB_URL',
  'REDIS_URL',
  'KAFKA_BROKERS',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'JAEGER_URL',
]) {
  stopUnless(env[name] !== undefined, `test bed printed no ${name}`);
}
// handed on under its own name: the standard variable would switch tracing on in every process the
// tests start; the tests that want traces pass it to their processes themselves
env.TESTBED_OTLP_ENDPOINT = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '';
delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
process.stdout.write(
  `test bed: ${Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}\n`,
);

const child = spawn(
  process.execPath,
  ['--test', '--test-reporter=spec', ...(patterns.length > 0 ? patterns : ['test/**/*.test.ts'])],
  {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
