/**
 * `npm run pipeline [-- --workers 1,2,4 --kill-workers 2 --creates 300 --clients 4 --users 40 --partitions 6]`:
 * the same writes (creates with Idempotency-Keys from concurrent clients) against 1 API and 1, 2
 * and 4 worker processes, then once more with one worker SIGKILLed mid-run (`--kill-workers 0`
 * leaves that out). Each run has its own database, topics and consumer group. Prints per run:
 * messages on transactions.v1 per event, the relays' store operations per event, events/s, lag
 * (write acknowledged → statistics saved) p50/p99, 503s answered, and whether anything was lost.
 * Uses MONGODB_URL, REDIS_URL, KAFKA_BROKERS, or starts the test bed. Exits 1 when a run lost
 * anything or went over the goal (≤ 1.05 messages per event; ≤ 1.25 with a worker killed).
 */
import { parseArgs } from 'node:util';
import { boundedInt } from '../stack/flags.ts';
import { serverUrls } from '../stack/servers.ts';
import { runPipeline, type RunResult } from './run.ts';

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', default: false },
    workers: { type: 'string', default: '1,2,4' },
    'kill-workers': { type: 'string', default: '2' },
    creates: { type: 'string', default: '300' },
    clients: { type: 'string', default: '4' },
    users: { type: 'string', default: '40' },
    partitions: { type: 'string', default: '6' },
  },
});
if (values.help) {
  process.stdout.write(
    'npm run pipeline [-- --workers 1,2,4 --kill-workers 2 --creates 300 --clients 4 --users 40 --partitions 6]\n' +
      '  the same creates against 1 API and each worker count, then with one worker SIGKILLed\n' +
      '  (--kill-workers 0 leaves that out); prints messages and relay store operations per event,\n' +
      '  events/s, lag p50/p99, 503s and whether anything was lost\n',
  );
  process.exit(0);
}
const count = (name: 'creates' | 'clients' | 'users' | 'partitions', max: number) =>
  boundedInt(name, values[name], max);
const workerCounts = values.workers.split(',').map((w) => boundedInt('workers', w, 16));
const killWorkers =
  values['kill-workers'] === '0' ? 0 : boundedInt('kill-workers', values['kill-workers'], 16);
const GOAL = { steady: 1.05, killed: 1.25 };

const servers = serverUrls();
const started = performance.now();
const say = (line: string) => {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}\n`);
};
const runs = [
  ...workerCounts.map((workers) => ({ workers, kill: false })),
  ...(killWorkers > 0 ? [{ workers: killWorkers, kill: true }] : []),
];
const results: RunResult[] = [];
for (const run of runs) {
  results.push(
    await runPipeline({
      servers,
      ...run,
      partitions: count('partitions', 64),
      creates: count('creates', 10_000),
      clients: count('clients', 64),
      users: count('users', 10_000),
      say,
    }),
  );
}

const fmt = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const header = [
  'workers',
  'events',
  'messages',
  'messages/event',
  'relay store ops/event',
  'idle polls/s per worker',
  'events/s',
  'lag p50 ms',
  'lag p99 ms',
  '503s',
  'nothing lost',
];
const rows = results.map((r) => [
  r.killed ? `${r.workers}, one SIGKILLed` : String(r.workers),
  String(r.events),
  `${r.messages} (${r.distinct} distinct)`,
  fmt(r.messages / r.events, 2),
  r.relayOperations === null ? 'n/a (no relay counter)' : fmt(r.relayOperations.found / r.events, 2),
  r.relayOperations === null ? 'n/a' : fmt(r.relayOperations.idle / r.elapsedS / r.workers, 1),
  fmt(r.eventsPerSecond, 1),
  fmt(r.lagMs.p50, 0),
  fmt(r.lagMs.p99, 0),
  String(r.unavailable503),
  r.lost.length === 0 ? 'yes' : `**no**: ${r.lost.join('; ')}`,
]);
const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
process.stdout.write(
  [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n') +
    `\n\n${runs.length} runs in ${((performance.now() - started) / 1000).toFixed(0)} s; ` +
    `${count('creates', 10_000)} creates from ${count('clients', 64)} clients over ${count('users', 10_000)} users, ` +
    `${count('partitions', 64)} partitions; events/s from the first write to the last event projected\n`,
);
const overGoal = results.filter(
  (r) => r.messages / r.events > (r.killed ? GOAL.killed : GOAL.steady) || r.lost.length > 0,
);
process.exit(overGoal.length === 0 ? 0 : 1);
