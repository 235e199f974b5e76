import type { AmountRow, DayTotals } from './day-totals.ts';

export interface StoredStats {
  readonly days: ReadonlyMap<string, DayTotals>;
  readonly updatedAt: Date;
}

/** A write whose effect on the statistics is not projected yet (read-your-writes). */
export interface PendingProjection {
  readonly userId: string;
  readonly transactionId: string;
  readonly version: number;
}

/**
 * Per-user statistics: totals per UTC day, maintained by the worker from the current state of the
 * user's transactions. Every write records a pending marker with itself; the worker clears it once
 * projected, so a reader knows whether the statistics include every acknowledged write.
 */
export interface StatsStore {
  /** Live transactions of a user with transaction_date in [from, to). */
  liveInRange(userId: string, from: Date, to: Date): Promise<AmountRow[]>;
  /** All live transactions of a user, and whether the user ever had any (deleted ones count). */
  liveOfUser(userId: string): Promise<{ rows: AmountRow[]; everHad: boolean }>;
  read(userId: string): Promise<StoredStats | null>;
  /** Sets each given day (null removes it) and marks the user known. One writer per user. */
  saveDays(userId: string, days: ReadonlyMap<string, DayTotals | null>, at: Date): Promise<void>;
  /**
   * A projected batch: sets each user's given days, then clears the markers of the events
   * projected, in one transaction where the store has them (the markers never before the days).
   */
  saveProjection(
    daysByUser: ReadonlyMap<string, ReadonlyMap<string, DayTotals | null>>,
    projected: readonly PendingProjection[],
    at: Date,
  ): Promise<void>;
  hasPending(userId: string): Promise<boolean>;
  clearPending(items: readonly PendingProjection[]): Promise<void>;
  /** Markers older than `before` (a lagging worker or a write that died before its commit). */
  stalePending(before: Date, limit: number): Promise<PendingProjection[]>;
  /** Users with statistics, in id order after `after`, for reconciliation. */
  userIds(after: string | null, limit: number): Promise<string[]>;
}
