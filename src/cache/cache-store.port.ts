/** A cached value and when it was computed (for refresh-ahead). */
export interface CacheEntry {
  readonly value: string;
  readonly storedAtMs: number;
}

/**
 * What `read` finds: the user's current generation, and the entry if it was stored under it;
 * or, when the caller said it holds an answer of `held` and that is still the current
 * generation, `held: true` and no entry (the caller's copy is current; nothing to transfer).
 */
export interface CacheLookup {
  readonly generation: string;
  readonly entry: CacheEntry | null;
  readonly held?: boolean;
}

/**
 * The read cache: Redis (shared by every instance) in production, a bounded in-memory LRU for the
 * embedded default. Entries are grouped by user under a GENERATION: `bump` gives a user a new
 * generation, which makes every entry of that user unreachable at once; `read` returns an entry
 * only if it was stored under the user's current generation. A generation value is never reused
 * (not after eviction, not after a cache server restart), so an old entry can never match again.
 * Operations may reject (server down or slow); callers treat that as a miss.
 */
export interface CacheStore {
  readonly name: string;
  /**
   * The user's current generation (created if the user has none) and the entry `key` under it;
   * `held`: a generation the caller already holds an answer for `key` of (see CacheLookup).
   */
  read(userId: string, key: string, held?: string): Promise<CacheLookup>;
  /** Stores `value` for `key` under `generation`, expiring after `ttlMs`. */
  write(userId: string, key: string, generation: string, value: string, ttlMs: number): Promise<void>;
  /** Gives each user a new generation: their entries are unreachable once this resolves. */
  bump(userIds: readonly string[]): Promise<void>;
  /** Answers when the backing server answers; throws otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
