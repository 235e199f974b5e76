/** One counted request: the count in the current fixed window and when that window ends. */
export interface RateLimitHit {
  readonly count: number;
  readonly resetAtMs: number;
}

/**
 * Fixed-window request counters keyed by client (Redis, shared by every instance; in memory,
 * per process). `hit` counts one request; it may reject when the backing server cannot answer
 * in time, and the caller then lets the request through (fail open).
 */
export interface RateLimitStore {
  readonly name: string;
  hit(key: string, windowMs: number): Promise<RateLimitHit>;
  close(): Promise<void>;
}
