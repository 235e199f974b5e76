import { LRUCache } from 'lru-cache';
import type { CacheLookup, CacheStore } from '../../cache/cache-store.port.ts';

export interface MemoryCacheOptions {
  /** At most this many entries, and this many users' generations, are kept (least recent go). */
  readonly maxEntries: number;
}

interface StoredEntry {
  readonly generation: string;
  readonly storedAtMs: number;
  readonly value: string;
}

/**
 * Shared by every store in the process and never reused, so a generation that was evicted (or
 * belonged to a closed store) can never match an entry again.
 */
let lastGeneration = 0;
const nextGeneration = () => String(++lastGeneration);

/**
 * The read cache in this process, bounded by count: exact for a single instance (the embedded
 * default); with several instances a write on one would not bump the others, so use Redis there.
 */
export function createMemoryCacheStore(options: MemoryCacheOptions): CacheStore {
  const generations = new LRUCache<string, string>({ max: options.maxEntries });
  const entries = new LRUCache<string, StoredEntry>({ max: options.maxEntries });
  // NUL cannot occur in a user id, so no user's keys can collide with another's
  const entryKey = (userId: string, key: string) => `${userId}\0${key}`;

  const generationOf = (userId: string): string => {
    let generation = generations.get(userId);
    if (generation === undefined) {
      generation = nextGeneration();
      generations.set(userId, generation);
    }
    return generation;
  };

  return {
    name: 'memory',
    read(userId, key, held): Promise<CacheLookup> {
      const generation = generationOf(userId);
      if (held === generation) return Promise.resolve({ generation, entry: null, held: true });
      const stored = entries.get(entryKey(userId, key));
      const entry =
        stored?.generation === generation ? { value: stored.value, storedAtMs: stored.storedAtMs } : null;
      return Promise.resolve({ generation, entry });
    },
    write(userId, key, generation, value, ttlMs) {
      // an entry under a generation that is no longer current could never be read: keep the room
      if (generations.peek(userId) === generation) {
        entries.set(entryKey(userId, key), { generation, storedAtMs: Date.now(), value }, { ttl: ttlMs });
      }
      return Promise.resolve();
    },
    bump(userIds) {
      for (const userId of userIds) generations.set(userId, nextGeneration());
      return Promise.resolve();
    },
    ping() {
      return Promise.resolve();
    },
    close() {
      generations.clear();
      entries.clear();
      return Promise.resolve();
    },
  };
}
