import type { TraceCarrier } from '../../telemetry/tracing.ts';
import type { Collection, Db } from 'mongodb';
import type { AmountRow, CurrencyTotals, DayTotals } from '../../analytics/day-totals.ts';
import type { PendingProjection, StatsStore } from '../../analytics/stats-store.port.ts';
import { exactInt64, versionId, type HeadDoc, type VersionDoc } from './mongo-schema.ts';
import type { Guard } from './mongo-guard.ts';

interface CurrencyDoc {
  cn: number;
  /** Int64 sums; `unknown` until checked, since a double here would mean a corrupted total. */
  ct: unknown;
  dn: number;
  dt: unknown;
}
interface DayDoc {
  n: number;
  c: Record<string, CurrencyDoc>;
}
/** `user_stats`: one document per user, its totals per UTC day (keys YYYY-MM-DD). */
export interface StatsDoc {
  _id: string;
  days?: Record<string, DayDoc>;
  updated_at: Date;
}
/**
 * `stats_pending`: one marker per write not yet projected, inserted before the write commits,
 * flagged `committed` (with a copy of its event) by the writer once its head is updated, flagged
 * `published` by the outbox relay, deleted by the projector (see mongo-outbox.ts). `partition`:
 * the partition of transactions.v1 its key falls in, which names the relay that publishes it
 * (absent on markers written before relaying followed the consumer group, or while the count was
 * unknown).
 */
export interface PendingDoc {
  _id: string;
  user_id: string;
  transaction_id: string;
  version: number;
  created_at: Date;
  published: boolean;
  published_at?: Date;
  partition?: number | null;
  committed?: boolean;
  event?: VersionDoc['event'];
  quarantined_at?: Date | null;
  quarantine_reason?: string | null;
  /** The write's W3C trace context, continued by the relay's publish (docs/TRACING.md). */
  trace_context?: TraceCarrier;
}

export async function createMongoStats(
  db: Db,
  heads: Collection<HeadDoc>,
  guard: Guard,
): Promise<StatsStore> {
  const stats = db.collection<StatsDoc>('user_stats');
  const pending = db.collection<PendingDoc>('stats_pending');
  await guard(() =>
    Promise.all([
      pending.createIndex({ user_id: 1 }, { name: 'by_user' }, undefined),
      pending.createIndex({ published: 1, created_at: 1 }, { name: 'by_state_and_age' }, undefined),
      // the relay's query: its partitions' unpublished markers, oldest first
      pending.createIndex({ published: 1, partition: 1, created_at: 1 }, { name: 'relay_slice' }, undefined),
    ]),
  );
  const rowsOf = (docs: readonly HeadDoc[]): AmountRow[] =>
    docs.map((d) => ({
      amountMinor: d.amount_minor,
      currency: d.currency,
      type: d.type,
      transactionDate: d.transaction_date,
    }));
  const projection = { amount_minor: 1, currency: 1, type: 1, transaction_date: 1, deleted_at: 1 };

  async function clearPending(items: readonly PendingProjection[]): Promise<void> {
    if (items.length === 0) return;
    // one delete per id: a filter on _id alone is what every MongoDB-protocol server serves fast
    const ops = items.map((i) => ({
      deleteOne: { filter: { _id: versionId(i.transactionId, i.version) } },
    }));
    await guard(() => pending.bulkWrite(ops, { ordered: false }));
  }

  return {
    async liveInRange(userId, from, to) {
      const filter = { user_id: userId, deleted_at: null, transaction_date: { $gte: from, $lt: to } };
      return rowsOf(await guard(() => heads.find(filter, { projection }).toArray()));
    },
    async liveOfUser(userId) {
      const docs = await guard(() => heads.find({ user_id: userId }, { projection }).toArray());
      return { rows: rowsOf(docs.filter((d) => d.deleted_at === null)), everHad: docs.length > 0 };
    },
    async read(userId) {
      const doc = await guard(() => stats.findOne({ _id: userId }));
      if (doc === null) return null;
      const days = new Map(Object.entries(doc.days ?? {}).map(([day, d]) => [day, fromDayDoc(d)]));
      return { days, updatedAt: doc.updated_at };
    },
    async saveDays(userId, days, at) {
      await guard(() => stats.updateOne({ _id: userId }, dayUpdate(days, at), { upsert: true }));
    },
    async saveProjection(daysByUser, projected, at) {
      if (daysByUser.size > 0) {
        const ops = [...daysByUser].map(([userId, days]) => ({
          updateOne: { filter: { _id: userId }, update: dayUpdate(days, at), upsert: true },
        }));
        await guard(() => stats.bulkWrite(ops, { ordered: false }));
      }
      await clearPending(projected);
    },
    async hasPending(userId) {
      return (await guard(() => pending.findOne({ user_id: userId }, { projection: { _id: 1 } }))) !== null;
    },
    clearPending,
    async stalePending(before, limit) {
      const docs = await guard(() =>
        pending
          // unpublished markers belong to the relay (a broker outage can last); only published
          // ones the projector has not cleared are stale
          .find({ published: true, created_at: { $lt: before } })
          .sort({ created_at: 1 })
          .limit(limit)
          .toArray(),
      );
      return docs.map((d): PendingProjection => ({
        userId: d.user_id,
        transactionId: d.transaction_id,
        version: d.version,
      }));
    },
    async userIds(after, limit) {
      const filter = after === null ? {} : { _id: { $gt: after } };
      const docs = await guard(() =>
        stats
          .find(filter, { projection: { _id: 1 } })
          .sort({ _id: 1 })
          .limit(limit)
          .toArray(),
      );
      return docs.map((d) => d._id);
    },
  };
}

/** The marker a write inserts before committing (see StatsStore). */
export function pendingDoc(
  userId: string,
  transactionId: string,
  version: number,
  at: Date,
  partition: number | null = null,
): PendingDoc {
  return {
    _id: versionId(transactionId, version),
    user_id: userId,
    transaction_id: transactionId,
    version,
    created_at: at,
    published: false,
    partition,
  };
}

function toDayDoc(day: DayTotals): DayDoc {
  const c: Record<string, CurrencyDoc> = {};
  for (const [currency, t] of Object.entries(day.currencies)) {
    c[currency] = { cn: t.creditCount, ct: t.creditTotal, dn: t.debitCount, dt: t.debitTotal };
  }
  return { n: day.count, c };
}

function fromDayDoc(doc: DayDoc): DayTotals {
  const currencies: Record<string, CurrencyTotals> = {};
  for (const [currency, t] of Object.entries(doc.c)) {
    currencies[currency] = {
      creditCount: t.cn,
      creditTotal: exactInt64(t.ct),
      debitCount: t.dn,
      debitTotal: exactInt64(t.dt),
    };
  }
  return { count: doc.n, currencies };
}

/** Sets the given days (null removes one) and the time of the update: one user's statistics document. */
function dayUpdate(days: ReadonlyMap<string, DayTotals | null>, at: Date) {
  const set: Record<string, unknown> = { updated_at: at };
  const unset: Record<string, ''> = {};
  for (const [day, totals] of days) {
    if (totals === null) unset[`days.${day}`] = '';
    else set[`days.${day}`] = toDayDoc(totals);
  }
  return Object.keys(unset).length > 0 ? { $set: set, $unset: unset } : { $set: set };
}
