import { randomBytes, randomInt } from 'node:crypto';
import { formatAmount } from '../../src/money/amount.ts';
import type { Client } from './client.ts';

/**
 * A bounded load through the balancer: creates (with an Idempotency-Key), patches and deletes,
 * with reads in between, from `concurrency` lanes. Each lane owns its users, so one user's writes
 * never overlap and the client's model of every acknowledged write is exact: the statistics the
 * service serves at the end must equal a recomputation from this model.
 */
export interface LoadOptions {
  readonly client: Client;
  readonly users: readonly string[];
  readonly writes: number;
  readonly concurrency: number;
  /** No write starts after this many milliseconds (the load is bounded in count and in time). */
  readonly maxMs: number;
  /** No write starts once this is aborted (a run that ends the load when its fault is over). */
  readonly signal?: AbortSignal;
  /** Called after each acknowledged write with the running count (the run kills processes here). */
  readonly onWrite?: (acknowledged: number) => void;
}

export interface Known {
  readonly userId: string;
  readonly amountMinor: bigint;
  readonly type: 'credit' | 'debit';
  readonly deleted: boolean;
}

export interface LoadResult {
  /** Writes started (fewer than asked when the time bound stopped the load). */
  readonly started: number;
  readonly acknowledged: { creates: number; patches: number; deletes: number; reads: number };
  /** Every transaction created, by id, in its last acknowledged state. */
  readonly model: ReadonlyMap<string, Known>;
}

const CURRENCY = 'GHS';

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { client } = options;
  const model = new Map<string, Known>();
  const acknowledged = { creates: 0, patches: 0, deletes: 0, reads: 0 };
  let started = 0;
  const deadline = Date.now() + options.maxMs;
  const wrote = () => {
    options.onWrite?.(acknowledged.creates + acknowledged.patches + acknowledged.deletes);
  };
  const liveOf = (userId: string) =>
    [...model].filter(([, t]) => t.userId === userId && !t.deleted).map(([id]) => id);

  async function create(userId: string): Promise<void> {
    const { known, answer } = await sendCreate(client, userId);
    const id = (answer?.body as { id?: string } | undefined)?.id;
    if (id === undefined) return;
    model.set(id, known);
    acknowledged.creates++;
  }

  async function patch(id: string, known: Known): Promise<void> {
    const amountMinor = BigInt(randomInt(100, 1_000_000));
    const answer = await client.send('PATCH', `/api/v1/transactions/${id}`, {
      // absolute values: a retry of a patch that was applied leaves the same state
      body: { transaction_amount: formatAmount(amountMinor, CURRENCY), transaction_date: randomDate() },
      ok: [200],
    });
    if (answer === null) return;
    model.set(id, { ...known, amountMinor });
    acknowledged.patches++;
  }

  async function remove(id: string, known: Known): Promise<void> {
    if ((await client.send('DELETE', `/api/v1/transactions/${id}`, { ok: [204] })) === null) return;
    model.set(id, { ...known, deleted: true });
    acknowledged.deletes++;
  }

  async function read(userId: string, id: string | undefined): Promise<void> {
    const path = id === undefined ? `/api/v1/users/${userId}/analytics` : `/api/v1/transactions/${id}`;
    // analytics of a user with no transaction yet is 404 (SPEC); this lane is the user's only writer
    const known = [...model.values()].some((t) => t.userId === userId);
    const ok = id === undefined && !known ? [200, 404] : [200];
    if ((await client.send('GET', path, { ok })) !== null) acknowledged.reads++;
  }

  async function lane(users: readonly string[]): Promise<void> {
    while (started < options.writes && Date.now() < deadline && options.signal?.aborted !== true) {
      const userId = users[randomInt(users.length)] ?? '';
      const live = liveOf(userId);
      const id = live[randomInt(Math.max(1, live.length))];
      const known = id === undefined ? undefined : model.get(id);
      const dice = randomInt(100);
      if (dice < 10) {
        await read(userId, dice < 5 ? id : undefined);
        continue;
      }
      started++;
      if (id === undefined || known === undefined || dice < 70) await create(userId);
      else if (dice < 92) await patch(id, known);
      else await remove(id, known);
      wrote();
    }
  }

  const lanes = Array.from({ length: options.concurrency }, (_, i) =>
    options.users.filter((_, j) => j % options.concurrency === i),
  ).filter((users) => users.length > 0);
  await Promise.all(lanes.map(lane));
  return { started, acknowledged, model };
}

/** Expected analytics of one user from the model: count and totals of the live transactions. */
export function expectedStats(model: ReadonlyMap<string, Known>, userId: string) {
  let count = 0;
  let credit = 0n;
  let debit = 0n;
  for (const t of model.values()) {
    if (t.userId !== userId || t.deleted) continue;
    count++;
    if (t.type === 'credit') credit += t.amountMinor;
    else debit += t.amountMinor;
  }
  return {
    transaction_count: count,
    total_credit: formatAmount(credit, CURRENCY),
    total_debit: formatAmount(debit, CURRENCY),
  };
}

/** A date in October 2024, so the load spreads over many statistics days. */
/**
 * One create of a random amount and type for `userId`, with a fresh Idempotency-Key (a retry of it
 * is safe); what the client's model records of it, and the answer (null when never acknowledged).
 */
export async function sendCreate(client: Client, userId: string) {
  const amountMinor = BigInt(randomInt(100, 1_000_000));
  const type = randomInt(3) === 0 ? 'debit' : 'credit';
  const answer = await client.send('POST', '/api/v1/transactions', {
    body: {
      user_id: userId,
      full_name: 'Ama Mensah',
      transaction_date: randomDate(),
      transaction_amount: formatAmount(amountMinor, CURRENCY),
      transaction_type: type,
    },
    idempotencyKey: randomBytes(12).toString('base64url'),
    ok: [201],
  });
  const known: Known = { userId, amountMinor, type, deleted: false };
  return { known, answer };
}

function randomDate(): string {
  const day = String(randomInt(1, 29)).padStart(2, '0');
  const hour = String(randomInt(24)).padStart(2, '0');
  return `2024-10-${day}T${hour}:00:00Z`;
}
