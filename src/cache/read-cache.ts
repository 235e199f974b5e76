import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import type { CacheLookup, CacheStore } from '../ports.ts';
import { createCircuitBreaker } from './circuit-breaker.ts';
import { createSingleFlight } from './single-flight.ts';

export interface ReadCacheOptions {
  readonly store: CacheStore;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Lifetime of an entry; 0 turns the cache off (every read computes). */
  readonly ttlMs: number;
  /** A hit on an entry older than this refreshes it in the background. */
  readonly refreshAfterMs: number;
}

const RETRY_BUMPS_MS = 250;

export type ReadCache = ReturnType<typeof createReadCache>;

/**
 * How a value is kept in the cache server (e.g. sealed, for values holding personal data). The
 * computed value is handed to the caller as is, so a miss never decodes what it just encoded.
 */
export interface CacheCodec {
  encode(value: string): string;
  /** Throws when the stored text cannot be read back (then the entry counts as a miss). */
  decode(stored: string): string;
}

const AS_IS: CacheCodec = { encode: (value) => value, decode: (stored) => stored };

/**
 * Cache-aside for per-user reads, safe under writes and cache failures:
 * - Read-your-writes: every write bumps the user's generation before it is acknowledged, and an
 *   entry is served only under the generation it was computed in, so no read that starts after a
 *   write's acknowledgement can see an entry computed before it, on any instance.
 * - A bump that fails (cache down) is remembered and retried; until it succeeds this instance
 *   does not read that user's entries, and the circuit breaker keeps everyone off the cache while
 *   it is down, so every request is answered from the store instead, with no waiting on timeouts.
 * - Concurrent misses of one key under one generation share one computation (single-flight).
 * - A hit on an entry older than `refreshAfterMs` is answered at once and recomputed in the
 *   background, so hot keys are refreshed before they expire instead of on the request path.
 */
export function createReadCache(options: ReadCacheOptions) {
  const { store, metrics, logger } = options;
  const flights = createSingleFlight<string>();
  const unbumped = new Set<string>();
  const breaker = createCircuitBreaker({
    failureThreshold: 3,
    cooldownMs: 500,
    maxCooldownMs: 5_000,
    onChange: (state) => {
      if (state === 'open') logger.warn('cache unavailable: serving from the store until it answers again');
      else logger.info('cache available again');
    },
  });

  function failed(error: unknown, operation: string): void {
    metrics.inc('cache_errors_total');
    breaker.failed();
    logger.debug({ err: { message: (error as Error).message }, operation }, 'cache operation failed');
  }

  /** Retries remembered bumps; their users' entries are not read until this succeeds. */
  async function retryBumps(): Promise<void> {
    if (unbumped.size === 0 || !breaker.allow()) return;
    const users = [...unbumped];
    try {
      await store.bump(users);
      for (const user of users) unbumped.delete(user);
      breaker.succeeded();
    } catch (error) {
      failed(error, 'bump');
    }
  }
  const retryTimer = setInterval(() => void retryBumps(), RETRY_BUMPS_MS);
  retryTimer.unref();

  async function lookup(userId: string, key: string): Promise<CacheLookup | null> {
    if (options.ttlMs === 0 || unbumped.has(userId) || !breaker.allow()) return null;
    try {
      const found = await store.read(userId, key);
      breaker.succeeded();
      return found;
    } catch (error) {
      failed(error, 'read');
      return null;
    }
  }

  function computeAndStore(
    userId: string,
    key: string,
    generation: string,
    compute: () => Promise<string>,
    codec: CacheCodec,
  ) {
    return async () => {
      const value = await compute();
      store.write(userId, key, generation, codec.encode(value), options.ttlMs).then(
        () => {
          breaker.succeeded();
        },
        (error: unknown) => {
          failed(error, 'write');
        },
      );
      return value;
    };
  }

  function refreshInBackground(
    userId: string,
    key: string,
    generation: string,
    compute: () => Promise<string>,
    codec: CacheCodec,
  ) {
    const flightKey = `${userId}\0${key}\0${generation}`;
    if (flights.has(flightKey)) return;
    metrics.inc('cache_refreshes_total');
    flights
      .run(flightKey, computeAndStore(userId, key, generation, compute, codec))
      .result.catch((error: unknown) => {
        logger.warn({ err: { message: (error as Error).message } }, 'cache refresh failed');
      });
  }

  /** An entry that cannot be read back (e.g. sealed under a retired key) is recomputed. */
  function decoded(stored: string, codec: CacheCodec): string | undefined {
    try {
      return codec.decode(stored);
    } catch {
      return undefined;
    }
  }

  return {
    /** The cached value of `key` for `userId`, or `compute()`'s (stored for the next reader). */
    async get(
      userId: string,
      key: string,
      compute: () => Promise<string>,
      codec: CacheCodec = AS_IS,
    ): Promise<string> {
      const found = await lookup(userId, key);
      if (found === null) {
        // no generation to coalesce under: a shared flight could predate a write (stale)
        metrics.inc('cache_bypasses_total');
        return compute();
      }
      const { generation, entry } = found;
      const value = entry === null ? undefined : decoded(entry.value, codec);
      if (entry !== null && value !== undefined) {
        metrics.inc('cache_hits_total');
        if (Date.now() - entry.storedAtMs >= options.refreshAfterMs) {
          refreshInBackground(userId, key, generation, compute, codec);
        }
        return value;
      }
      const flight = flights.run(
        `${userId}\0${key}\0${generation}`,
        computeAndStore(userId, key, generation, compute, codec),
      );
      metrics.inc(flight.joined ? 'cache_coalesced_total' : 'cache_misses_total');
      return flight.result;
    },

    /**
     * Called after every acknowledged write of `userId`, before the response. Never throws: when
     * the cache cannot take the bump, it is remembered and retried, and this instance stops
     * reading the user's entries until then.
     */
    async invalidate(userId: string): Promise<void> {
      if (options.ttlMs === 0) return;
      if (!breaker.allow()) {
        unbumped.add(userId);
        return;
      }
      try {
        await store.bump([userId]);
        breaker.succeeded();
      } catch (error) {
        unbumped.add(userId);
        failed(error, 'bump');
      }
    },

    /** For readiness: throws while the cache is unavailable (the service stays ready without it). */
    async check(): Promise<void> {
      if (breaker.state() !== 'closed') throw new Error(`circuit ${breaker.state()}: serving from the store`);
      await store.ping();
    },

    close(): Promise<void> {
      clearInterval(retryTimer);
      return store.close();
    },
  };
}
