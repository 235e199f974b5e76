import type { TransactionEvent } from '../transactions/transaction.ts';

/** Users worked on at once within a batch: their store calls overlap, bounded. */
const USER_CONCURRENCY = 8;

/** A batch's events by user, each user's in batch (partition) order. */
export function eventsByUser(events: readonly TransactionEvent[]): Map<string, TransactionEvent[]> {
  const byUser = new Map<string, TransactionEvent[]>();
  for (const event of events) {
    const list = byUser.get(event.userId);
    if (list === undefined) byUser.set(event.userId, [event]);
    else list.push(event);
  }
  return byUser;
}

/** `work` applied to every item, at most USER_CONCURRENCY at a time; results in item order. */
export async function mapBounded<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += USER_CONCURRENCY) {
    results.push(...(await Promise.all(items.slice(i, i + USER_CONCURRENCY).map(work))));
  }
  return results;
}
