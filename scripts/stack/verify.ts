import { openMongoStorage } from '../../src/adapters/mongo-storage.ts';
import type { Client, ClientStats } from './client.ts';
import type { LoadBalancer, UpstreamFailure } from './load-balancer.ts';
import type { LoadResult } from './load.ts';
import type { ServiceProcess } from './processes.ts';
import { analyticsMismatches, statsDifferences, waitSettled } from './reconcile.ts';
import { assigned, poll } from './wait.ts';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface StackReport {
  readonly requests: ClientStats;
  readonly acknowledged: LoadResult['acknowledged'];
  readonly started: number;
  readonly kill: { readonly afterWrites: number; readonly inFlight: number };
  readonly upstreamFailures: readonly UpstreamFailure[];
  readonly survivorPartitions: readonly string[];
  readonly statistics: { users: number; reconcileDifferences: number; analyticsMismatches: string[] };
  readonly checks: Check[];
  readonly ok: boolean;
  readonly durationMs: number;
}

const SETTLE_TIMEOUT_MS = 60_000;

/**
 * After the load: the surviving worker owns every partition, every event is processed (outbox
 * empty, no pending markers), the stored statistics equal a recomputation from the stored
 * transactions, the analytics served equal the client's model of its acknowledged writes, and
 * no request failed except those in flight on the killed API (retried).
 */
export async function verify(input: {
  load: LoadResult;
  client: Client;
  lb: LoadBalancer;
  users: readonly string[];
  kill: { at: number; wallTime: number; afterWrites: number; inFlight: number };
  victimApi: string;
  survivor: ServiceProcess;
  partitions: number;
  mongodb: { url: string; database: string };
  writes: number;
  say: (line: string) => void;
}): Promise<Omit<StackReport, 'ok' | 'durationMs'>> {
  const { load, client, lb, users, kill } = input;
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  const taken = await poll(
    () => assigned(input.survivor, kill.wallTime).length === input.partitions,
    SETTLE_TIMEOUT_MS,
    'the surviving worker owns every partition',
  ).then(
    () => true,
    () => false,
  );
  const survivorPartitions = assigned(input.survivor);
  input.say(`worker-2 owns ${survivorPartitions.length} of ${input.partitions} partitions`);
  check(
    'the surviving worker took over every partition',
    taken,
    `${survivorPartitions.length}/${input.partitions}: ${survivorPartitions.join(' ')}`,
  );

  const storage = await openMongoStorage(input.mongodb);
  let reconcileDifferences = 0;
  try {
    const settled = await waitSettled(storage, users, SETTLE_TIMEOUT_MS);
    check('every event was processed (outbox empty, no pending markers)', settled, '');
    input.say('every event processed; recomputing statistics');
    reconcileDifferences = (await statsDifferences(storage, users)).days;
  } finally {
    await storage.close();
  }
  check(
    'stored statistics equal a recomputation from the stored transactions',
    reconcileDifferences === 0,
    `${reconcileDifferences} days differed`,
  );

  input.say('reading analytics through the balancer');
  const mismatches = await analyticsMismatches(client, load.model, users);
  check(
    'analytics served equal a recomputation from the acknowledged writes',
    mismatches.length === 0,
    mismatches.slice(0, 5).join('; '),
  );

  const stray = lb.failures.filter((f) => f.backend !== input.victimApi || f.startedAt > kill.at);
  check(
    'the kills happened mid-run',
    kill.afterWrites > 0 && kill.afterWrites < input.writes,
    `after ${kill.afterWrites} of ${input.writes} writes`,
  );
  const { creates, patches, deletes } = load.acknowledged;
  check(
    'every write started was acknowledged',
    creates + patches + deletes === load.started,
    `${creates + patches + deletes} of ${load.started}`,
  );
  check(
    'no request failed (every retry succeeded)',
    client.stats.failed.length === 0,
    JSON.stringify(client.stats.failed.slice(0, 5)),
  );
  check(
    'requests cut off (502) were only those in flight on the killed API at the kill',
    stray.length === 0 && (client.stats.retried.upstream_failed_502 ?? 0) === lb.failures.length,
    `${lb.failures.length} cut off, ${stray.length} elsewhere or later`,
  );
  return {
    requests: client.stats,
    acknowledged: load.acknowledged,
    started: load.started,
    kill: { afterWrites: kill.afterWrites, inFlight: kill.inFlight },
    upstreamFailures: lb.failures,
    survivorPartitions,
    statistics: { users: users.length, reconcileDifferences, analyticsMismatches: mismatches },
    checks,
  };
}
