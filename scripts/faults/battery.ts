import { openMongoStorage } from '../../src/adapters/mongo/mongo-storage.ts';
import { createClient } from '../stack/client.ts';
import { launchStack } from '../stack/launch.ts';
import type { Servers } from '../stack/servers.ts';
import { runLoad, type LoadResult } from '../stack/load.ts';
import type { Check } from '../stack/verify.ts';
import { poll } from '../stack/wait.ts';
import type { CaseContext, FaultCase, FaultSettings } from './case.ts';
import { faultCases } from './cases.ts';
import { consumption, reached } from './kafka-offsets.ts';
import { brokenCase, problemsLogged, type CaseResult } from './case-result.ts';
import { reconcileCase } from './reconcile-case.ts';
import { startServers } from './testbed.ts';

/**
 * `npm run faults` and test/faults/battery.test.ts: each case on a fresh stack (launch.ts: two
 * APIs behind a balancer, two workers in one group, names unique to the case), under a steady
 * mixed load that starts before the fault and goes on after it; then the reconciliation.
 */

/** A retry of a create in flight on a dying process waits out the 30 s idempotency lock. */
const REQUEST_DEADLINE_MS = 45_000;

export async function runBattery(options: {
  readonly servers: Servers;
  readonly settings: FaultSettings;
  /** Case names to run; all when empty. */
  readonly only: readonly string[];
  readonly progress: (line: string) => void;
  /** Called with each case's result as soon as it is known. */
  readonly report?: (result: CaseResult) => void;
}): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const fault of faultCases().filter(
    (c) => options.only.length === 0 || options.only.includes(c.name),
  )) {
    const started = performance.now();
    // a case that throws (a server that never came back, a deadline) fails alone; the battery goes on
    const result = await runCase(fault, options).catch((error: unknown) =>
      brokenCase(fault, error, performance.now() - started),
    );
    results.push(result);
    options.report?.(result);
    // whatever the case did, the next one starts with every server up
    await startServers();
  }
  return results;
}

async function runCase(
  fault: FaultCase,
  options: { servers: Servers; settings: FaultSettings; progress: (line: string) => void },
): Promise<CaseResult> {
  const { servers, settings } = options;
  const started = performance.now();
  const say = (line: string) => {
    options.progress(`[${fault.name} ${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);
  };
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail = '') => checks.push({ name, ok, detail });
  const stack = await launchStack({
    servers,
    partitions: settings.partitions,
    label: 'faults',
    // the periodic reconciliation would repair what the battery is there to find
    env: { RECONCILE_INTERVAL_MS: '86400000' },
    say,
  });
  const storage = await openMongoStorage({ url: servers.mongodbUrl, database: stack.database });
  let ok = false;
  try {
    const client = createClient(stack.lb.url, stack.token, REQUEST_DEADLINE_MS);
    const loads: LoadResult[] = [];
    const users = stack.users(settings.users);
    const allUsers = [...users];
    const replayGroups: string[] = [];
    const groups = () => [stack.groupId, ...replayGroups];
    const load = (
      loadUsers: string[],
      writes: number,
      extra: { signal?: AbortSignal; onWrite?: (n: number) => void },
    ) =>
      runLoad({
        client,
        users: loadUsers,
        writes,
        concurrency: settings.concurrency,
        maxMs: settings.maxLoadSeconds * 1000,
        ...extra,
      });
    const context: CaseContext = {
      stack,
      servers,
      settings,
      storage,
      say,
      check,
      replayGroups,
      async extraLoad(label, writes) {
        const extraUsers = stack.users(settings.users, label);
        allUsers.push(...extraUsers);
        const result = await load(extraUsers, writes, {});
        loads.push(result);
        return result;
      },
      async waitConsumed(timeoutMs = 120_000) {
        await poll(
          async () => {
            const state = await consumption(
              servers.kafkaBrokers,
              stack.topics.transactions,
              settings.partitions,
              groups(),
            );
            return groups().every((g) => reached(state, g, state.ends));
          },
          timeoutMs,
          'every group consumed every event',
        );
      },
    };
    await fault.before?.(context);

    const stop = new AbortController();
    const marks = { warm: Promise.withResolvers<undefined>(), tail: Promise.withResolvers<undefined>() };
    let tailFrom = Number.POSITIVE_INFINITY;
    let acknowledged = 0;
    say(`steady load: ${settings.concurrency} lanes over ${settings.users} users`);
    const steady = load(users, settings.maxWrites, {
      signal: stop.signal,
      onWrite: (count) => {
        acknowledged = count;
        if (count >= settings.warmupWrites) marks.warm.resolve(undefined);
        if (count >= tailFrom + settings.tailWrites) marks.tail.resolve(undefined);
      },
    });
    const ended = steady.then(() => 'ended' as const);
    if ((await Promise.race([marks.warm.promise.then(() => 'warm' as const), ended])) === 'warm') {
      await fault.inject(context);
      say('fault over; the load goes on');
      tailFrom = acknowledged;
    } else check('the fault happened under load', false, 'the load ended before it was warm');
    await Promise.race([marks.tail.promise, ended]);
    stop.abort();
    const main = await steady;
    loads.push(main);
    const requests = structuredClone(client.stats);
    say(`load done: ${main.started} writes started; acknowledged ${JSON.stringify(main.acknowledged)}`);
    await fault.after?.(context);
    const reconciled = await reconcileCase({
      context,
      client,
      loads,
      users: allUsers,
      groups: groups(),
      requests,
      tolerated: fault.tolerated,
    });
    ok = [...checks, ...reconciled.checks].every((c) => c.ok);
    if (!ok) for (const line of problemsLogged(stack.processes)) say(line);
    return {
      name: fault.name,
      title: fault.title,
      requests,
      ...reconciled,
      checks: [...checks, ...reconciled.checks],
      ok,
      durationMs: performance.now() - started,
    };
  } finally {
    await storage.close();
    await stack.close(!ok);
  }
}
