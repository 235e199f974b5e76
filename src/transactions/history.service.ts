import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { actsFor, type Principal } from '../auth/principal.ts';
import type { CachedAnswer, ReadCache, ReadRequest } from '../cache/read-cache.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { invalidField, notFound } from '../errors.ts';
import type { TransactionStore } from './transaction-store.port.ts';
import { decodeCursor, encodeCursor } from './history-cursor.ts';
import { createOpenedRows } from './opened-rows.ts';
import { DEFAULT_HISTORY_LIMIT, type HistoryQuery } from './transactions.schemas.ts';

const DAY_MS = 86_400_000;

export type HistoryService = ReturnType<typeof createHistoryService>;

/**
 * A user's history, one keyset page at a time, cached per (user, query). Pages hold customer
 * names, so the cached page is the response JSON SEALED as a whole (AES-256-GCM under the current
 * data key, bound to its cache key): one decryption per hit instead of one per row, and the cache
 * server never holds a name in clear. A miss opens and serialises only the rows this process has
 * not opened yet (opened-rows.ts). Answers JSON text and its tag, sent as is.
 */
export function createHistoryService(deps: {
  store: TransactionStore;
  keyring: Keyring;
  cache: ReadCache;
  /** How many opened rows the process keeps (opened-rows.ts). */
  openedRows?: number;
}) {
  const { store, keyring, cache } = deps;
  const opened = createOpenedRows(keyring, deps.openedRows);

  async function page(userId: string, query: HistoryQuery, scope: string): Promise<string> {
    const from = query.from === undefined ? undefined : new Date(`${query.from}T00:00:00Z`);
    const to =
      query.to === undefined ? undefined : new Date(new Date(`${query.to}T00:00:00Z`).getTime() + DAY_MS);
    const after = query.cursor === undefined ? undefined : decodeCursor(keyring, scope, query.cursor);
    const limit = query.limit ?? DEFAULT_HISTORY_LIMIT;
    const records = await store.listByUser({ userId, from, to, type: query.type, after, limit: limit + 1 });
    const rows = records.slice(0, limit);
    const last = rows.at(-1);
    const nextCursor = records.length > limit && last ? encodeCursor(keyring, scope, last) : null;
    // the same text as JSON.stringify({ data, next_cursor }), from the rows' remembered JSON
    return `{"data":[${rows.map((r) => opened.jsonOf(r)).join(',')}],"next_cursor":${JSON.stringify(nextCursor)}}`;
  }

  return {
    async history(
      userId: string,
      query: HistoryQuery,
      principal: Principal,
      request?: ReadRequest,
    ): Promise<CachedAnswer> {
      if (!actsFor(principal, userId)) throw notFound(`no user ${userId}`);
      if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
        throw invalidField('/to', 'must not be before from');
      }
      const scope = JSON.stringify([userId, query.from ?? null, query.to ?? null, query.type ?? null]);
      // a bad cursor is refused before the cache is consulted, as it would be without a cache
      if (query.cursor !== undefined) decodeCursor(keyring, scope, query.cursor);
      const key = historyKey(scope, query.cursor ?? null, query.limit ?? DEFAULT_HISTORY_LIMIT);
      const aad = `cache:${userId}:${key}`;
      return cache.get(
        userId,
        key,
        () => page(userId, query, scope),
        { encode: (value) => keyring.seal(value, aad), decode: (stored) => keyring.open(stored, aad) },
        request,
      );
    },
  };
}

/** Recent keys by their query: a repeated read (a client polling) skips the SHA-256. */
const recentKeys = new LRUCache<string, string>({ max: 10_000 });

function historyKey(scope: string, cursor: string | null, limit: number): string {
  const query = `${scope}\0${cursor ?? ''}\0${limit}`;
  let key = recentKeys.get(query);
  if (key === undefined) {
    key = `history:${digest([scope, cursor, limit])}`;
    recentKeys.set(query, key);
  }
  return key;
}

/** A short, fixed-length name for a query, so cache keys stay small whatever the cursor. */
export function digest(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}
