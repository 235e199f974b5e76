import { openMongoStorage } from '../../src/adapters/mongo/mongo-storage.ts';
import type { Client, ClientStats } from './client.ts';
import type { LoadBalancer, UpstreamFailure } from './haproxy.ts';
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
/** A request cut by the kill fails when the process dies, which is when its exit is seen. */
const CUT_WINDOW_MS = 1_000;

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

  // In flight on the killed API at the kill, HAProxy does not retry a request (it may have been
  // processed): the first request on a client connection is answered 502 (logged `SH`, the server
  // closed before answering); a later one on a kept-alive connection has that connection closed
  // with no answer and no log line, as a server closing a keep-alive connection would. Either way
  // the client retries with the same Idempotency-Key. A request after the kill is never cut: a
  // refused connection is retried by HAProxy on the other API (retries, option redispatch).
  const stray = lb.failures.filter(
    (f) =>
      f.backend !== input.victimApi || f.startedAt > kill.at || f.status !== 502 || !f.error.startsWith('S'),
  );
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
  const { cuts } = client.stats;
  const cutLater = cuts.filter((c) => c.at < kill.wallTime || c.at > kill.at + CUT_WINDOW_MS);
  check(
    'requests cut off (502, or connection closed unanswered) were only those in flight on the killed API at the kill',
    stray.length === 0 &&
      cutLater.length === 0 &&
      cuts.filter((c) => c.reason === 'upstream_failed_502').length === lb.failures.length,
    `${cuts.length} cut off (${lb.failures.length} answered 502 by HAProxy), ${stray.length} 5xx elsewhere, ` +
      `${cutLater.length} cut before the kill or later than ${CUT_WINDOW_MS} ms after it`,
  );
  check(...leftRotation(lb, input.victimApi, kill.wallTime));
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

/**
 * The killed API left HAProxy's rotation by its health check on /health/ready (the connection
 * refused there), and no request was sent to it afterwards: a request that met its refused
 * connection before that was retried by HAProxy on the other API (`retries`, `option redispatch`).
 */
function leftRotation(lb: LoadBalancer, victim: string, killedAt: number): [string, boolean, string] {
  const down = lb.transitions.find((t) => t.backend === victim && t.state === 'DOWN' && t.at >= killedAt);
  const after =
    down === undefined ? [] : lb.requests.filter((r) => r.backend === victim && r.startedAt > down.at);
  return [
    "the killed API left HAProxy's rotation by its readiness check; no request was sent to it afterwards",
    down !== undefined && after.length === 0,
    down === undefined
      ? 'HAProxy never marked it DOWN'
      : `DOWN ${down.at - killedAt} ms after the kill (${down.reason}); ${after.length} requests after`,
  ];
}

/**
 * A SIGTERMed API answers readiness 503 for SHUTDOWN_WITHDRAW_MS while still serving: HAProxy must
 * take it out of rotation by that answer (Layer7, code 503) before the process is gone.
 */
export function withdrawnByReadiness(lb: LoadBalancer, api: string, stoppedAt: number): Check {
  const down = lb.transitions.find((t) => t.backend === api && t.state === 'DOWN');
  const cut = lb.failures.filter((f) => f.backend === api);
  return {
    name: 'a SIGTERMed API left the rotation by its readiness answer (503) before it stopped; nothing cut off',
    ok: down !== undefined && /code: 503/.test(down.reason) && down.at <= stoppedAt && cut.length === 0,
    detail: down === undefined ? 'HAProxy never marked it DOWN' : `${down.reason}; ${cut.length} cut off`,
  };
}
