import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { CacheStore } from '../../src/cache/cache-store.port.ts';
import { eventually, uniqueId } from '../helpers.ts';

/** The CacheStore port's contract: every adapter runs this same suite, so they cannot drift apart. */

const TTL_MS = 60_000;
const aUser = () => uniqueId('cache-user');

export function cacheStoreContract(name: string, open: () => Promise<CacheStore>): void {
  void describe(`CacheStore contract: ${name}`, () => {
    let opened: Promise<CacheStore> | undefined;
    const cache = () => (opened ??= open());
    after(async () => {
      await (await opened)?.close();
    });

    /** Reads `key` and stores `value` under the generation the read found, as callers do. */
    const fill = async (c: CacheStore, userId: string, key: string, value: string, ttlMs = TTL_MS) => {
      const { generation } = await c.read(userId, key);
      await c.write(userId, key, generation, value, ttlMs);
      return generation;
    };

    it('answers a miss with a generation and no entry', async () => {
      const lookup = await (await cache()).read(aUser(), 'summary');
      assert.equal(typeof lookup.generation, 'string');
      assert.ok(lookup.generation.length > 0);
      assert.equal(lookup.entry, null);
    });

    it('returns what was written, with when it was stored', async () => {
      const c = await cache();
      const user = aUser();
      const before = Date.now();
      await fill(c, user, 'summary', '{"total":"12.50"}');
      const { entry } = await c.read(user, 'summary');
      assert.ok(entry, 'a hit');
      assert.equal(entry.value, '{"total":"12.50"}');
      assert.ok(entry.storedAtMs >= before && entry.storedAtMs <= Date.now(), 'stored at about now');
    });

    it('keeps the generation while nothing bumps it', async () => {
      const c = await cache();
      const user = aUser();
      const first = await fill(c, user, 'a', 'x');
      assert.equal((await c.read(user, 'a')).generation, first);
      assert.equal((await c.read(user, 'b')).generation, first);
    });

    it('bump changes the generation and makes written entries unreachable', async () => {
      const c = await cache();
      const user = aUser();
      const before = await fill(c, user, 'summary', 'old');
      await c.bump([user]);
      const after = await c.read(user, 'summary');
      assert.notEqual(after.generation, before);
      assert.equal(after.entry, null);
    });

    it('bump of one user leaves another user entries readable', async () => {
      const c = await cache();
      const [bumped, other] = [aUser(), aUser()];
      await fill(c, bumped, 'summary', 'b');
      await fill(c, other, 'summary', 'o');
      await c.bump([bumped]);
      assert.equal((await c.read(other, 'summary')).entry?.value, 'o');
      assert.equal((await c.read(bumped, 'summary')).entry, null);
    });

    it('never returns a value written under a generation read before a bump', async () => {
      const c = await cache();
      const user = aUser();
      // a reader computed from data that a write then changed, and stores it late
      const { generation: stale } = await c.read(user, 'summary');
      await c.bump([user]);
      await c.write(user, 'summary', stale, 'computed before the write', TTL_MS);
      const lookup = await c.read(user, 'summary');
      assert.notEqual(lookup.generation, stale);
      assert.equal(lookup.entry, null);
    });

    it('forgets an entry once its ttl has passed', async () => {
      const c = await cache();
      const user = aUser();
      await fill(c, user, 'summary', 'short-lived', 200);
      await eventually(
        async () => ((await c.read(user, 'summary')).entry === null ? true : undefined),
        5_000,
        20,
      );
      // still the same generation: expiry is not invalidation
      await fill(c, user, 'summary', 'again');
      assert.equal((await c.read(user, 'summary')).entry?.value, 'again');
    });

    it('round-trips values with newlines, unicode and the empty string exactly', async () => {
      const c = await cache();
      const user = aUser();
      const values = ['line 1\nline 2\n\n', 'Ama Mensah — ₵475.66 ✓ 𝄞 中文', '', '\n'];
      for (const [i, value] of values.entries()) await fill(c, user, `k${i}`, value);
      for (const [i, value] of values.entries()) {
        assert.equal((await c.read(user, `k${i}`)).entry?.value, value);
      }
    });

    it('bumps several users at once, and an empty list is a no-op', async () => {
      const c = await cache();
      const users = [aUser(), aUser(), aUser()];
      const bystander = aUser();
      for (const user of [...users, bystander]) await fill(c, user, 'summary', user);
      await c.bump([]);
      await c.bump(users);
      for (const user of users) assert.equal((await c.read(user, 'summary')).entry, null);
      assert.equal((await c.read(bystander, 'summary')).entry?.value, bystander);
    });

    it('invalidates all 50 entries of a user with one bump', async () => {
      const c = await cache();
      const user = aUser();
      const keys = Array.from({ length: 50 }, (_, i) => `key-${i}`);
      for (const key of keys) await fill(c, user, key, key);
      for (const key of keys) assert.equal((await c.read(user, key)).entry?.value, key);
      await c.bump([user]);
      for (const key of keys) assert.equal((await c.read(user, key)).entry, null, key);
    });

    it('sends no entry back to a caller holding the current generation, and the entry to one holding an older one', async () => {
      const c = await cache();
      const user = aUser();
      const generation = await fill(c, user, 'summary', 'held');
      const current = await c.read(user, 'summary', generation);
      assert.equal(current.generation, generation);
      assert.equal(current.held, true);
      assert.equal(current.entry, null, 'nothing to transfer');
      await c.bump([user]);
      const after = await c.read(user, 'summary', generation);
      assert.notEqual(after.generation, generation);
      assert.notEqual(after.held, true, 'a bump ends what the caller holds');
      await c.write(user, 'summary', after.generation, 'new', TTL_MS);
      const stale = await c.read(user, 'summary', generation);
      assert.equal(stale.entry?.value, 'new', 'a caller holding an older generation gets the entry');
      assert.equal((await c.read(user, 'summary', 'never-issued')).entry?.value, 'new');
    });

    it('answers ping', async () => {
      await (await cache()).ping();
    });
  });
}
