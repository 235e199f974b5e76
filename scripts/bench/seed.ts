import { totalsByDay, type AmountRow } from '../../src/analytics/day-totals.ts';
import type { Keyring } from '../../src/crypto/keyring.ts';
import {
  eventStateOf,
  type TransactionEvent,
  type TransactionWrite,
} from '../../src/transactions/transaction.ts';
import { reconcileUser } from '../../src/analytics/stats-projection.service.ts';
import type { StatsStore } from '../../src/analytics/stats-store.port.ts';
import { random, writesOf, type SeedUser } from './dataset.ts';
import { progress } from './progress.ts';

/** Where seeded writes go: the embedded store or a MongoDB database (seed-embedded/seed-mongo.ts). */
export interface SeedSink {
  /** Stores a batch of writes (records, audit lines, events) as the service would. */
  insertBatch(writes: readonly TransactionWrite[]): Promise<void>;
  readonly stats: StatsStore;
  close(): Promise<void>;
}

export interface SeedOptions {
  readonly label: string;
  readonly users: readonly SeedUser[];
  readonly keyring: Keyring;
  readonly seed: number;
  readonly now: Date;
  /**
   * `steady`: statistics saved as the worker would leave them, nothing pending (reads see the
   * steady state). `backlog`: writes committed but not projected, their events returned for the
   * caller to put on the bus (the worker drain).
   */
  readonly mode: 'steady' | 'backlog';
}

export interface SeedResult {
  readonly users: number;
  readonly transactions: number;
  readonly seconds: number;
  /** Events of a `backlog` seed, oldest first across users, as a relay would have published them. */
  readonly events: TransactionEvent[];
}

const BATCH = 1000;

export async function seedDataset(sink: SeedSink, options: SeedOptions): Promise<SeedResult> {
  const { users, keyring, now } = options;
  const rand = random(options.seed);
  const total = users.reduce((sum, u) => sum + u.count, 0);
  const bar = progress(`seed ${options.label}`, total);
  const started = performance.now();
  const events: TransactionEvent[] = [];
  // writes of several users share a batch (most users have a few transactions, and a round trip
  // per user would dominate); a user's statistics are saved once all its writes are stored
  let buffer: TransactionWrite[] = [];
  let finished: { userId: string; rows: AmountRow[] }[] = [];
  const flush = async () => {
    if (buffer.length > 0) await sink.insertBatch(buffer);
    bar.tick(buffer.length);
    buffer = [];
    // what the reconciliation would write: every day of the user, recomputed from its rows
    for (const { userId, rows } of finished) await sink.stats.saveDays(userId, totalsByDay(rows), now);
    finished = [];
  };
  for (const user of users) {
    const rows: AmountRow[] = [];
    for (const batch of writesOf(user, keyring, rand, now, BATCH)) {
      for (const write of batch) {
        if (options.mode === 'backlog') events.push(write.event);
        else rows.push(eventStateOf(write.record));
        buffer.push(write);
        if (buffer.length >= BATCH) await flush();
      }
    }
    if (options.mode === 'steady') finished.push({ userId: user.id, rows });
  }
  await flush();
  bar.done();
  events.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  return { users: users.length, transactions: total, seconds: (performance.now() - started) / 1000, events };
}

/**
 * Runs the service's own reconciliation on a few seeded users: 0 repaired days means the seeded
 * statistics are exactly what the worker would have projected.
 */
export async function verifySteadyState(stats: StatsStore, userIds: readonly string[], at: Date) {
  for (const userId of userIds) {
    const repaired = await reconcileUser(stats, userId, at);
    if (repaired !== 0) throw new Error(`seeded statistics of ${userId} differ on ${repaired} days`);
  }
}
