import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { createMemoryRateLimitStore } from '../../src/adapters/memory/memory-rate-limit.ts';
import { openRedisClient } from '../../src/adapters/redis/redis-client.ts';
import { openRedisRateLimitStore } from '../../src/adapters/redis/redis-rate-limit.ts';
import type { RateLimitStore } from '../../src/rate-limit/rate-limit-store.port.ts';
import { eventually, requireEnv, uniqueId } from '../helpers.ts';

/** The RateLimitStore contract, run against every adapter so they cannot drift apart. */
function rateLimitStoreContract(name: string, open: () => Promise<RateLimitStore>): void {
  describe(`RateLimitStore contract: ${name}`, () => {
    let store: RateLimitStore | undefined;
    const opened = async () => (store ??= await open());
    after(async () => {
      await store?.close();
    });

    it('counts hits of a key from 1 within one window that ends at most windowMs from now', async () => {
      const s = await opened();
      const key = uniqueId('client');
      const before = Date.now();
      const first = await s.hit(key, 60_000);
      const second = await s.hit(key, 60_000);
      const third = await s.hit(key, 60_000);
      assert.deepEqual([first.count, second.count, third.count], [1, 2, 3]);
      assert.ok(first.resetAtMs > before && first.resetAtMs <= Date.now() + 60_000);
      assert.ok(Math.abs(third.resetAtMs - first.resetAtMs) < 1_000, 'one window, one end');
    });

    it('keeps keys apart', async () => {
      const s = await opened();
      const [a, b] = [uniqueId('client'), uniqueId('client')];
      await s.hit(a, 60_000);
      await s.hit(a, 60_000);
      assert.equal((await s.hit(b, 60_000)).count, 1);
    });

    it('starts a new window at 1 once the window has ended', async () => {
      const s = await opened();
      const key = uniqueId('client');
      const first = await s.hit(key, 300);
      assert.equal(first.count, 1);
      await eventually(() => Promise.resolve(Date.now() > first.resetAtMs ? true : undefined), 5_000, 20);
      const next = await eventually(async () => {
        const hit = await s.hit(key, 300);
        return hit.count === 1 ? hit : undefined;
      }, 5_000);
      assert.ok(next.resetAtMs > first.resetAtMs);
    });
  });
}

rateLimitStoreContract('memory', () => Promise.resolve(createMemoryRateLimitStore()));
rateLimitStoreContract('redis', async () => {
  const client = await openRedisClient(requireEnv('REDIS_URL'), pino({ level: 'silent' }), 'test');
  const store = openRedisRateLimitStore(client);
  return {
    ...store,
    async close() {
      await store.close();
      client.destroy();
    },
  };
});
