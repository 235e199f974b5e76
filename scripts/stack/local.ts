/**
 * `npm run stack:local [-- --writes N --load-seconds N --users N --concurrency N --partitions N]`: 2 API processes behind
 * HAProxy on loopback (deploy/haproxy/haproxy.cfg, scripts/stack/haproxy.ts; installed when
 * missing) and 2 worker processes in one consumer group, a bounded load through HAProxy, one API and one worker SIGKILLed mid-run, then the checks (scripts/stack/stack.ts).
 * Uses the servers named by MONGODB_URL, REDIS_URL and KAFKA_BROKERS, or starts the test bed
 * (idempotent) when they are not set. Prints a report; exits 1 when a check failed.
 */
import { parseArgs } from 'node:util';
import { boundedInt } from './flags.ts';
import { formatReport } from './report.ts';
import { serverUrls } from './servers.ts';
import { runStack } from './stack.ts';

const { values } = parseArgs({
  options: {
    writes: { type: 'string', default: '500' },
    'load-seconds': { type: 'string', default: '120' },
    users: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '8' },
    partitions: { type: 'string', default: '6' },
  },
});
const count = (name: keyof typeof values, max: number): number => boundedInt(name, values[name], max);
const writes = count('writes', 100_000);

const servers = serverUrls();
const report = await runStack({
  servers,
  writes,
  users: count('users', 10_000),
  concurrency: count('concurrency', 64),
  loadSeconds: count('load-seconds', 3600),
  partitions: count('partitions', 64),
  killAfter: Math.ceil(writes / 3),
  progress: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(formatReport(report));
process.exit(report.ok ? 0 : 1);
