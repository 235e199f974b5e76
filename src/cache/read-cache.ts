import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import type { CacheLookup, CacheStore } from './cache-store.port.ts';
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
  /** Bytes of decoded answers this process keeps beside the store (see `opened`). */
  readonly openedMaxBytes?: number;
}

/** 16 MiB: some 1,300 history pages of 50, or 30,000 analytics answers. */
const OPENED_MAX_BYTES = 16 * 1024 * 1024;

const RETRY_BUMPS_MS = 250;

export type ReadCache = ReturnType<typeof createReadCache>;

interface Computed {
  readonly tag: string;
  readonly value: string;
}

/**
 * A decoded answer this process holds, valid while its generation is the user's current one,
 * kept as text: Node joins a text body to the response head and sends both in one write(), as
 * for the bare route the benchmark compares with; a Buffer body goes out beside the head
 * (writev of two chunks).
 */
interface Opened {
  readonly tag: string;
  readonly text: string;
  readonly generation: string;
  readonly storedAtMs: number;
}

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

/** What the request brings to a read beyond its key. */
export interface ReadRequest {
  /** The caller's If-None-Match: a current tag answers without the body (304). */
  readonly ifNoneMatch?: string | undefined;
  /**
   * The request's admission (its rate-limit count), rejecting when it is refused. Issued in the
   * same turn of the event loop as the cache lookup, so on Redis both travel in one round trip;
   * awaited before anything is computed, so a refused request never costs a store read.
   */
  readonly admit?: () => Promise<void>;
}

export interface CachedAnswer {
  /** A strong entity tag (quoted) of the answer: same tag, same bytes. */
  readonly tag: string;
  /** The answer's JSON text, or null when the caller's If-None-Match holds the current tag. */
  readonly body: string | null;
}

const NO_REQUEST: ReadRequest = {};
const admitted = Promise.resolve();

/**
 * The strong tag of `body`, computed once with it and kept beside it in the cache. It covers the
 * user's generation and the key (any write of the user changes it on every instance) and the
 * body's digest (two computations under one generation may differ, e.g. in `as_of`).
 */
export function entityTag(generation: string, key: string, body: string): string {
  const digest = createHash('sha256').update(`${generation}\0${key}\0`).update(body).digest('base64url');
  return `"${digest.slice(0, 27)}"`;
}

/** RFC 9110 §13.1.2: weak comparison, a list of tags or `*`. */
export function matchesTag(ifNoneMatch: string | undefined, tag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch === tag) return true;
  for (const part of ifNoneMatch.split(',')) {
    const candidate = part.trim();
    if (candidate === '*' || candidate === tag || candidate === `W/${tag}`) return true;
  }
  return false;
}

/** An entry is `<tag>\n<encoded value>`: the tag is checked (304) without decoding the value. */
const withTag = (tag: string, encoded: string) => `${tag}\n${encoded}`;

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
 * - Answers this process computed or decoded are kept in its memory (`opened`, bounded, never
 *   written anywhere), under the generation they belong to. A read still asks the store for the
 *   user's current generation, every time, and says which generation it holds: when that is
 *   still current, the store sends no entry back and nothing is decoded (no AES-GCM open of a
 *   history page, no transfer of it from Redis); after any write, on any instance, it is not.
 */
export function createReadCache(options: ReadCacheOptions) {
  const { store, metrics, logger } = options;
  const flights = createSingleFlight<Computed>();
  const opened = new LRUCache<string, Opened>({
    maxSize: options.openedMaxBytes ?? OPENED_MAX_BYTES,
    sizeCalculation: (o) => o.text.length * 2 + o.tag.length + 64,
  });
  const hold = (userId: string, key: string, generation: string, answered: Computed, storedAtMs: number) => {
    const ttl = options.ttlMs - (Date.now() - storedAtMs);
    if (ttl <= 0) return;
    opened.set(
      `${userId}\0${key}`,
      { tag: answered.tag, text: answered.value, generation, storedAtMs },
      { ttl },
    );
  };
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

  async function lookup(userId: string, key: string, held: string | undefined): Promise<CacheLookup | null> {
    if (options.ttlMs === 0 || unbumped.has(userId) || !breaker.allow()) return null;
    try {
      const found = await store.read(userId, key, held);
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
    return async (): Promise<Computed> => {
      const value = await compute();
      const tag = entityTag(generation, key, value);
      hold(userId, key, generation, { tag, value }, Date.now());
      store.write(userId, key, generation, withTag(tag, codec.encode(value)), options.ttlMs).then(
        () => {
          breaker.succeeded();
        },
        (error: unknown) => {
          failed(error, 'write');
        },
      );
      return { tag, value };
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
  function decoded(encoded: string, codec: CacheCodec): string | undefined {
    try {
      return codec.decode(encoded);
    } catch {
      return undefined;
    }
  }

  const answer = (computed: Computed, request: ReadRequest): CachedAnswer =>
    matchesTag(request.ifNoneMatch, computed.tag)
      ? { tag: computed.tag, body: null }
      : { tag: computed.tag, body: computed.value };

  return {
    /**
     * The answer for `key` of `userId`: the cached one, or `compute()`'s (stored for the next
     * reader); its body left out when `request.ifNoneMatch` holds its current tag.
     */
    async get(
      userId: string,
      key: string,
      compute: () => Promise<string>,
      codec: CacheCodec = AS_IS,
      request: ReadRequest = NO_REQUEST,
    ): Promise<CachedAnswer> {
      const held = options.ttlMs === 0 ? undefined : opened.get(`${userId}\0${key}`);
      // both issued before either is awaited: one write to the cache server carries both
      const lookingUp = lookup(userId, key, held?.generation);
      const admitting = request.admit?.() ?? admitted;
      const [found] = await Promise.all([lookingUp, admitting]);
      if (found === null) {
        // no generation to coalesce under: a shared flight could predate a write (stale)
        metrics.inc('cache_bypasses_total');
        const value = await compute();
        return answer({ tag: entityTag('', key, value), value }, request);
      }
      const { generation, entry } = found;
      if (found.held === true && held?.generation === generation) {
        metrics.inc('cache_hits_total');
        if (Date.now() - held.storedAtMs >= options.refreshAfterMs) {
          refreshInBackground(userId, key, generation, compute, codec);
        }
        return matchesTag(request.ifNoneMatch, held.tag)
          ? { tag: held.tag, body: null }
          : { tag: held.tag, body: held.text };
      }
      const cut = entry === null ? -1 : entry.value.indexOf('\n');
      if (entry !== null && cut > 0) {
        const tag = entry.value.slice(0, cut);
        const fresh = Date.now() - entry.storedAtMs < options.refreshAfterMs;
        if (matchesTag(request.ifNoneMatch, tag)) {
          metrics.inc('cache_hits_total');
          if (!fresh) refreshInBackground(userId, key, generation, compute, codec);
          return { tag, body: null };
        }
        const value = decoded(entry.value.slice(cut + 1), codec);
        if (value !== undefined) {
          metrics.inc('cache_hits_total');
          hold(userId, key, generation, { tag, value }, entry.storedAtMs);
          if (!fresh) refreshInBackground(userId, key, generation, compute, codec);
          return { tag, body: value };
        }
      }
      const flight = flights.run(
        `${userId}\0${key}\0${generation}`,
        computeAndStore(userId, key, generation, compute, codec),
      );
      metrics.inc(flight.joined ? 'cache_coalesced_total' : 'cache_misses_total');
      return answer(await flight.result, request);
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
      opened.clear();
      return store.close();
    },
  };
}
