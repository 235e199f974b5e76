import type { Storage } from '../../src/storage.port.ts';
import { reconcileUser } from '../../src/analytics/stats-projection.service.ts';
import type { Client } from './client.ts';
import { expectedStats, type Known } from './load.ts';
import { poll } from './wait.ts';

/**
 * The reconciliation after a run, shared by the scale-out check and the fault battery: wait until
 * every event is processed, then compare what the service stores and serves with a recomputation
 * from the stored transactions and with the client's model of its acknowledged writes.
 */

/** True once the outbox is empty and no user has a pending projection marker (false at the deadline). */
export async function waitSettled(storage: Storage, users: readonly string[], timeoutMs: number) {
  return poll(
    async () => {
      if ((await storage.outbox.backlog()) > 0) return false;
      for (const user of users) if (await storage.stats.hasPending(user)) return false;
      return true;
    },
    timeoutMs,
    'every event processed',
  ).then(
    () => true,
    () => false,
  );
}

/**
 * Stored statistics against a recomputation from the stored transactions: the days that differed
 * and the users who had any (the recomputation repairs them, as the reconciler would).
 */
export async function statsDifferences(storage: Storage, users: readonly string[]) {
  const counts = await inChunks(users, (user) => reconcileUser(storage.stats, user, new Date()));
  return {
    days: counts.reduce((sum, n) => sum + n, 0),
    users: users.filter((_, i) => (counts[i] ?? 0) > 0),
  };
}

/** Users whose analytics, read through `client`, differ from the model of acknowledged writes. */
export async function analyticsMismatches(
  client: Client,
  model: ReadonlyMap<string, Known>,
  users: readonly string[],
): Promise<string[]> {
  const mismatches: string[] = [];
  await inChunks(users, async (user) => {
    const everCreated = [...model.values()].some((t) => t.userId === user);
    const answer = await client.send('GET', `/api/v1/users/${user}/analytics`, { ok: [200, 404] });
    const body = answer?.body as Record<string, unknown> | undefined;
    if (!everCreated) {
      if (answer?.status !== 404) mismatches.push(`${user}: expected 404, got ${answer?.status}`);
      return;
    }
    const expected = expectedStats(model, user);
    const served = {
      transaction_count: body?.transaction_count,
      total_credit: body?.total_credit,
      total_debit: body?.total_debit,
    };
    if (JSON.stringify(served) !== JSON.stringify(expected)) {
      mismatches.push(`${user}: served ${JSON.stringify(served)}, expected ${JSON.stringify(expected)}`);
    }
  });
  return mismatches;
}

/** Acknowledged transactions the store does not hold in their last acknowledged state. */
export async function missingAcknowledged(storage: Storage, model: ReadonlyMap<string, Known>) {
  const missing: string[] = [];
  await inChunks([...model], async ([id, known]) => {
    const stored = await storage.transactions.get(id);
    if (stored === null) missing.push(`${id}: not stored`);
    else if (stored.userId !== known.userId) missing.push(`${id}: stored for ${stored.userId}`);
    else if ((stored.deletedAt !== null) !== known.deleted)
      missing.push(`${id}: ${known.deleted ? 'deleted but still live' : 'live but deleted'}`);
    else if (!known.deleted && stored.amountMinor !== known.amountMinor)
      missing.push(`${id}: amount ${stored.amountMinor}, acknowledged ${known.amountMinor}`);
  });
  return missing;
}

/** `work` for every item, a few at a time (the servers are shared with the rest of the machine). */
export async function inChunks<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += 6)
    results.push(...(await Promise.all(items.slice(i, i + 6).map(work))));
  return results;
}
