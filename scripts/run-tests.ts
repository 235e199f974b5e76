/**
 * `npm test`: brings the test bed up (idempotent; real Redis, Kafka and a MongoDB-protocol
 * server on loopback), then runs every test file with the URLs that reach them.
 */
import { spawn, spawnSync } from 'node:child_process';

const up = spawnSync('bash', ['scripts/testbed/up.sh'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
});
if (up.status !== 0) {
  process.stderr.write('test bed did not come up; see above\n');
  process.exit(1);
}
const env: Record<string, string> = {};
for (const line of up.stdout.split('\n')) {
  const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
  if (match?.[1] !== undefined && match[2] !== undefined) env[match[1]] = match[2];
}
for (const name of ['MONGODB_URL', 'REDIS_URL', 'KAFKA_BROKERS']) {
  if (env[name] === undefined) {
    process.stderr.write(`test bed printed no ${name}\n`);
    process.exit(1);
  }
}
process.stdout.write(
  `test bed: ${Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}\n`,
);

const patterns = process.argv.slice(2);
const child = spawn(
  process.execPath,
  ['--test', '--test-reporter=spec', ...(patterns.length > 0 ? patterns : ['test/**/*.test.ts'])],
  {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
