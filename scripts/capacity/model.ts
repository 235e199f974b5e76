/**
 * `npm run capacity`: the capacity model of docs/SCALING.md, computed from figures measured here
 * and from assumptions named below. Measured: CPU per request and per event from the last
 * `npm run bench` (scripts/bench/results/benchmarks.json), and the size of each stored document from the service's
 * own document mapping applied to the benchmark's realistic seed data. Assumed (not measurable on
 * this machine, so stated and easy to change): the traffic shape, the utilisation to plan for, what
 * one MongoDB shard sustains and the prices. Prints the markdown table SCALING.md quotes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BSON, Long } from 'mongodb';
import { toHeadDoc, toVersionDoc } from '../../src/adapters/mongo/mongo-schema.ts';
import { createKeyring } from '../../src/crypto/keyring.ts';
import { planUsers, random, writesOf } from '../bench/dataset.ts';
import { ASSUMPTIONS, plan, type Measured } from './plan.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const file = process.argv[2] ?? join(ROOT, 'scripts', 'bench', 'results', 'benchmarks.json');

interface BenchTarget {
  readonly name: string;
  readonly http: readonly { scenario: { id: string }; median: { cpuUsPerRequest: number } }[];
  readonly drain?: { cpuUsPerEvent: number; eventsPerSecond: number };
}
const bench = JSON.parse(readFileSync(file, 'utf8')) as {
  started_at: string;
  environment: { commit: string };
  targets: readonly BenchTarget[];
};

function cpu(targetName: string, scenario: string): number {
  const target = bench.targets.find((t) => t.name === targetName);
  const found = target?.http.find((h) => h.scenario.id === scenario)?.median.cpuUsPerRequest;
  if (found === undefined) throw new Error(`${file} has no ${targetName}/${scenario}`);
  return found;
}

/** Mean BSON bytes per transaction of each document kind, over a realistic sample. */
function documentSizes(): { head: number; version: number; dayEntry: number; daysPerTransaction: number } {
  const keyring = createKeyring([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
  const rand = random(7);
  const users = planUsers('u-', { users: 400, transactions: 20_000, tiers: [] }, rand);
  let count = 0;
  let head = 0;
  let version = 0;
  let days = 0;
  for (const user of users) {
    const userDays = new Set<string>();
    for (const batch of writesOf(user, keyring, rand, new Date('2026-11-30T00:00:00Z'), 500)) {
      for (const write of batch) {
        count++;
        head += BSON.calculateObjectSize(toHeadDoc(write.record));
        version += BSON.calculateObjectSize(toVersionDoc(write));
        userDays.add(write.record.transactionDate.toISOString().slice(0, 10));
      }
    }
    days += userDays.size;
  }
  // one day of one currency in user_stats, as mongo-stats.ts maps it: days.<YYYY-MM-DD>
  const totals = { cn: 1, ct: Long.fromNumber(5_000), dn: 1, dt: Long.fromNumber(4_000) };
  const dayEntry = BSON.calculateObjectSize({ '2026-11-30': { n: 2, c: { GHS: totals } } }) - 5;
  return { head: head / count, version: version / count, dayEntry, daysPerTransaction: days / count };
}

/** Store operations per create on MongoDB, end to end, from `npm run costs` (scripts/pipeline/results/op-costs.json). */
function storeOpsPerCreate(): Measured['storeOpsPerCreate'] {
  const costsFile = join(ROOT, 'scripts', 'pipeline', 'results', 'op-costs.json');
  interface Cost {
    reads: number;
    writes: number;
  }
  const { measured_at: at, results } = JSON.parse(readFileSync(costsFile, 'utf8')) as {
    measured_at: string;
    results: readonly {
      store: string;
      events: number;
      createWithKey: Cost;
      relay: Cost;
      projector: Cost;
    }[];
  };
  const mongo = results.find((r) => r.store === 'mongodb');
  if (mongo === undefined) throw new Error(`${costsFile} has no mongodb figures`);
  const creates = mongo.events / 2;
  const per = (key: keyof Cost) =>
    mongo.createWithKey[key] / creates +
    mongo.relay[key] / mongo.events +
    mongo.projector[key] / mongo.events;
  return {
    writes: per('writes'),
    reads: per('reads'),
    source: `scripts/pipeline/results/op-costs.json, ${at}`,
  };
}

const measured: Measured = {
  source: `${file.replace(`${ROOT}/`, '')} (run ${bench.started_at}, commit ${bench.environment.commit})`,
  apiCpuUs: {
    create: cpu('testbed', 'create'),
    cachedRead: cpu('testbed', 'analytics-10000-cached'),
    uncachedRead: cpu('testbed', 'analytics-10000-uncached'),
  },
  storeOpsPerCreate: storeOpsPerCreate(),
  workerCpuUsPerEvent: bench.targets.find((t) => t.name === 'embedded')?.drain?.cpuUsPerEvent ?? NaN,
  bytes: documentSizes(),
};

process.stdout.write(plan(measured, ASSUMPTIONS));
