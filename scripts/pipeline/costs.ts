/**
 * `npm run costs [-- --stored 1000 --creates 20 --users 4 --stores embedded,mongodb]`: store
 * operations per create (without and with an Idempotency-Key), per event in the relay and per
 * event in the projector (alerts, scores, webhook fan-out included), and per batch where the work
 * is batched, on each store (op-costs.ts). Prints the markdown table docs/BENCHMARKS.md quotes and
 * writes scripts/pipeline/results/op-costs.json, which `npm run capacity` reads.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { boundedInt } from '../stack/flags.ts';
import { serverUrls } from '../stack/servers.ts';
import { measureOperationCosts, type Cost, type OperationCosts } from './op-costs.ts';

const { values } = parseArgs({
  options: {
    stored: { type: 'string', default: '1000' },
    creates: { type: 'string', default: '20' },
    users: { type: 'string', default: '4' },
    stores: { type: 'string', default: 'embedded,mongodb' },
    out: { type: 'string', default: join(import.meta.dirname, 'results', 'op-costs.json') },
  },
});
const stored = Number(values.stored);
if (!Number.isInteger(stored) || stored < 0 || stored > 1_000_000) {
  process.stderr.write('--stored must be an integer 0-1000000\n');
  process.exit(2);
}
const stores = values.stores
  .split(',')
  .filter((s): s is 'embedded' | 'mongodb' => ['embedded', 'mongodb'].includes(s));
const servers = serverUrls();
const results: OperationCosts[] = [];
for (const store of stores) {
  process.stderr.write(`${store}: seeding ${stored} events, then counting\n`);
  results.push(
    await measureOperationCosts({
      store,
      stored,
      creates: boundedInt('creates', values.creates, 10_000),
      users: boundedInt('users', values.users, 1_000),
      mongodbUrl: servers.mongodbUrl,
      kafkaBrokers: servers.kafkaBrokers,
    }),
  );
}
process.stdout.write(formatCosts(results));
writeFileSync(values.out, `${JSON.stringify({ measured_at: new Date().toISOString(), results }, null, 2)}\n`);
process.stderr.write(`written to ${values.out}\n`);

export function formatCosts(list: readonly OperationCosts[]): string {
  const total = (c: Cost) => c.reads + c.writes;
  const per = (c: Cost, n: number) =>
    `${(total(c) / n).toFixed(2)} (${(c.reads / n).toFixed(2)} r, ${(c.writes / n).toFixed(2)} w)`;
  const detail = (c: Cost) =>
    Object.entries(c.commands)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, n]) => `${name} ${n}`)
      .join(', ');
  const lines = [
    '| store | stored events | work | operations per unit (reads, writes) | per batch | commits per unit | operations counted |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of list) {
    const creates = r.events / 2;
    const rows: [string, Cost, number, number | null][] = [
      ['create, no key (per create)', r.create, creates, null],
      ['create, Idempotency-Key (per create)', r.createWithKey, creates, null],
      [
        `relay (per event; ${plural(r.relay.batches, 'batch', 'batches')}, ${plural(r.relayIdlePolls, 'idle poll', 'idle polls')} apart)`,
        r.relay,
        r.events,
        r.relay.batches,
      ],
      [
        `projector (per event; ${plural(r.projector.batches, 'batch', 'batches')}, ${r.users} users)`,
        r.projector,
        r.events,
        r.projector.batches,
      ],
    ];
    for (const [work, cost, n, batches] of rows) {
      lines.push(
        `| ${r.store} | ${r.stored.toLocaleString('en-US')} | ${work} | ${per(cost, n)} | ${batches === null ? '' : (total(cost) / batches).toFixed(1)} | ${(cost.commits / n).toFixed(2)} | ${detail(cost)} |`,
      );
    }
  }
  const stray = list.filter((r) => r.unattributed > 0).map((r) => `${r.store} ${r.unattributed}`);
  const note =
    stray.length === 0
      ? ''
      : `\nOperations counted in no context (figures above too low): ${stray.join(', ')}\n`;
  return `${lines.join('\n')}\n${note}`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
