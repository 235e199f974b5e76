/**
 * `npm run faults [-- --cases kafka,redis,store,worker-kill,replay,api-sigterm --kafka-seconds N
 * --outage-seconds N --writes N --users N --concurrency N --partitions N]`: issue 9's fault
 * battery (scripts/faults/battery.ts). Each case runs on a fresh stack of 2 APIs and 2 workers
 * under a steady load: `--writes` acknowledged writes before the fault and as many after it.
 * Uses the servers named by MONGODB_URL, REDIS_URL and KAFKA_BROKERS, or starts the test bed.
 * Prints each case's reconciliation, then a table; exits 1 when any check failed.
 */
import { parseArgs } from 'node:util';
import { boundedInt } from '../stack/flags.ts';
import { serverUrls } from '../stack/servers.ts';
import { runBattery } from './battery.ts';
import { formatCase, formatTable } from './report.ts';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '' },
    'kafka-seconds': { type: 'string', default: '30' },
    'outage-seconds': { type: 'string', default: '5' },
    writes: { type: 'string', default: '150' },
    users: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '8' },
    partitions: { type: 'string', default: '4' },
  },
});
const count = (name: Exclude<keyof typeof values, 'cases'>, max: number): number =>
  boundedInt(name, values[name], max);
const writes = count('writes', 10_000);
const only = values.cases === '' ? [] : values.cases.split(',');

const results = await runBattery({
  servers: serverUrls(),
  settings: {
    partitions: count('partitions', 64),
    users: count('users', 1_000),
    concurrency: count('concurrency', 64),
    warmupWrites: writes,
    tailWrites: writes,
    // a bound, not a target: the load stops once the fault is over and the tail is written
    maxWrites: writes * 40,
    maxLoadSeconds: 600,
    kafkaDownSeconds: count('kafka-seconds', 300),
    outageSeconds: count('outage-seconds', 120),
  },
  only,
  progress: (line) => process.stderr.write(`${line}\n`),
  report: (result) => process.stdout.write(`${formatCase(result)}\n`),
});
process.stdout.write(formatTable(results));
const ok = results.length > 0 && results.every((r) => r.ok);
process.stdout.write(
  `${ok ? 'OK' : 'FAILED'}: ${results.filter((r) => r.ok).length} of ${results.length} cases passed\n`,
);
process.exit(ok ? 0 : 1);
