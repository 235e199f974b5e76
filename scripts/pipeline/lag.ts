import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';

/**
 * Write acknowledged → statistics saved, as `npm run bench` measures it (scripts/bench/lag-bench.ts):
 * a write's pending marker exists from before its commit until the projector saved the days it
 * touched, so an observer reads the set of markers in a loop, and a write's lag runs from its 201
 * to the end of the first look, begun after the 201, that no longer finds its marker: an upper
 * bound, off by at most one look.
 */
export interface LagObserver {
  /** A write was acknowledged now. */
  acknowledged(transactionId: string): void;
  /** Waits until every acknowledged write is projected (true), or the deadline (false). */
  settled(timeoutMs: number): Promise<boolean>;
  /** Milliseconds of each resolved write, and the median look. */
  stop(): Promise<{ lags: number[]; unresolved: number; lookMs: number }>;
}

export async function observeLag(url: string, database: string): Promise<LagObserver> {
  const client = await MongoClient.connect(url, { serverSelectionTimeoutMS: 5_000 });
  const markers = client.db(database).collection<{ transaction_id: string }>('stats_pending');
  const awaiting = new Map<string, number>();
  const lags: number[] = [];
  const looks: number[] = [];
  const state = { running: true, empty: false };
  const loop = (async () => {
    while (state.running) {
      const began = performance.now();
      try {
        const docs = await markers.find({}, { projection: { _id: 0, transaction_id: 1 } }).toArray();
        const ended = performance.now();
        looks.push(ended - began);
        const pending = new Set(docs.map((d) => d.transaction_id));
        for (const [id, ackAt] of awaiting) {
          if (ackAt <= began && !pending.has(id)) {
            lags.push(ended - ackAt);
            awaiting.delete(id);
          }
        }
        state.empty = docs.length === 0;
      } catch {
        // a look that failed (the store under load) resolves nothing; the next one will
      }
      await sleep(20);
    }
  })();
  return {
    acknowledged: (id) => awaiting.set(id, performance.now()),
    async settled(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (awaiting.size === 0 && state.empty) return true;
        await sleep(100);
      }
      return false;
    },
    async stop() {
      state.running = false;
      await loop;
      await client.close();
      const sorted = [...looks].sort((a, b) => a - b);
      return { lags, unresolved: awaiting.size, lookMs: sorted[Math.floor(sorted.length / 2)] ?? 0 };
    },
  };
}

/** The p-th percentile (0-100) of `values`, nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
