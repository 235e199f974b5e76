import type { Client, ClientStats } from '../stack/client.ts';
import type { Known, LoadResult } from '../stack/load.ts';
import {
  analyticsMismatches,
  missingAcknowledged,
  statsDifferences,
  waitSettled,
} from '../stack/reconcile.ts';
import type { Check } from '../stack/verify.ts';
import type { CaseContext } from './case.ts';
import { consumption, distinctEvents } from './kafka-offsets.ts';

/** What a case's reconciliation found: the figures the battery prints, and its checks. */
export interface Reconciled {
  readonly writes: { readonly started: number; readonly acknowledged: number };
  /** Failed requests (after the client's retries) by final status, or `connection`. */
  readonly failedBy: Readonly<Record<string, number>>;
  readonly events: {
    /** Messages on transactions.v1, and the distinct events among them (by event id). */
    readonly produced: number;
    readonly distinct: number;
    /** Messages each consumer group committed. */
    readonly consumed: Readonly<Record<string, number>>;
  };
  /** Must be empty: users whose stored statistics differ from a recomputation. */
  readonly statsDiffer: readonly string[];
  /** Must be empty: acknowledged transactions not stored in their acknowledged state. */
  readonly missing: readonly string[];
  readonly analyticsMismatches: readonly string[];
  readonly checks: readonly Check[];
}

const SETTLE_TIMEOUT_MS = 120_000;

export async function reconcileCase(input: {
  context: CaseContext;
  client: Client;
  loads: readonly LoadResult[];
  users: readonly string[];
  groups: readonly string[];
  /** The load's request figures (the reconciliation's own reads come after). */
  requests: ClientStats;
  tolerated: readonly string[];
}): Promise<Reconciled> {
  const { context, loads, users, requests } = input;
  const { storage, stack, servers, settings } = context;
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail = '') => checks.push({ name, ok, detail });

  context.say('reconciling');
  check(
    'every event was processed (outbox empty, no pending markers)',
    await waitSettled(storage, users, SETTLE_TIMEOUT_MS),
  );
  const consumedAll = await context.waitConsumed(SETTLE_TIMEOUT_MS).then(
    () => true,
    () => false,
  );
  const offsets = await consumption(
    servers.kafkaBrokers,
    stack.topics.transactions,
    settings.partitions,
    input.groups,
  );
  const distinct = await distinctEvents(servers.kafkaBrokers, stack.topics.transactions, offsets.ends);
  const model = new Map<string, Known>(loads.flatMap((l) => [...l.model]));
  const stats = await statsDifferences(storage, users);
  const missing = await missingAcknowledged(storage, model);
  const mismatches = await analyticsMismatches(input.client, model, users);

  const sum = (f: (l: LoadResult) => number) => loads.reduce((n, l) => n + f(l), 0);
  const acknowledged = sum((l) => l.acknowledged.creates + l.acknowledged.patches + l.acknowledged.deletes);
  const failedBy: Record<string, number> = {};
  for (const f of requests.failed) failedBy[String(f.status)] = (failedBy[String(f.status)] ?? 0) + 1;
  const untolerated = [...Object.keys(requests.retried), ...Object.keys(failedBy)].filter(
    (reason) => !input.tolerated.includes(reason),
  );

  check(
    'every acknowledged write produced its event',
    distinct >= acknowledged,
    `${distinct} distinct events for ${acknowledged} writes`,
  );
  check('every consumer group consumed every event', consumedAll, JSON.stringify(offsets.consumed));
  check(
    'users whose statistics differ from a recomputation: 0',
    stats.users.length === 0,
    `${stats.users.length} users (${stats.days} days): ${stats.users.slice(0, 5).join(' ')}`,
  );
  check('acknowledged transactions missing: 0', missing.length === 0, missing.slice(0, 5).join('; '));
  check(
    'analytics served equal the acknowledged writes',
    mismatches.length === 0,
    mismatches.slice(0, 3).join('; '),
  );
  check(
    `requests retried or failed only as this fault allows (${input.tolerated.join(', ') || 'none'})`,
    untolerated.length === 0,
    `${untolerated.join(', ')}: ${JSON.stringify(requests.failed.slice(0, 3))}`,
  );
  return {
    writes: { started: sum((l) => l.started), acknowledged },
    failedBy,
    events: { produced: offsets.produced, distinct, consumed: offsets.consumed },
    statsDiffer: stats.users,
    missing,
    analyticsMismatches: mismatches,
    checks,
  };
}
