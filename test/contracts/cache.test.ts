import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { createClient } from 'redis';
import { createMemoryCacheStore } from '../../src/adapters/memory/memory-cache.ts';
import { openRedisCacheStore } from '../../src/adapters/redis/redis-cache.ts';
import { openRedisClient, type RedisClient } from '../../src/adapters/redis/redis-client.ts';
import type { CacheStore } from '../../src/cache/cache-store.port.ts';
import { eventually, requireEnv, uniqueId } from '../helpers.ts';
import { cacheStoreContract } from './cache.contract.ts';

/** Runs the CacheStore contract against every adapter, then what only one adapter can show. */

/** A Redis cache store on its own client; closing it closes the client too. */
async function openRedisCache(url: string): Promise<{ store: CacheStore; client: RedisClient }> {
  const client = await openRedisClient(url, pino({ level: 'silent' }), 'test');
  const store = await openRedisCacheStore(client);
  const close = async () => {
    await store.close();
    client.destroy();
  };
  return { store: { ...store, close }, client };
}

/** What a pending operation came to within `ms`: a bounded wait, not a measure of speed. */
async function outcomeWithin(
  operation: Promise<unknown>,
  ms: number,
): Promise<'answered' | 'rejected' | 'hung'> {
  const controller = new AbortController();
  const settled = operation.then(
    () => 'answered' as const,
    () => 'rejected' as const,
  );
  const hung = sleep(ms, 'hung' as const, { signal: controller.signal }).catch(() => 'hung' as const);
  const outcome = await Promise.race([settled, hung]);
  controller.abort();
  return outcome;
}

cacheStoreContract('memory', () => Promise.resolve(createMemoryCacheStore({ maxEntries: 10_000 })));
cacheStoreContract('redis', async () => (await openRedisCache(requireEnv('REDIS_URL'))).store);

void describe('memory cache', () => {
  void it('keeps at most maxEntries entries, the most recent among them', async () => {
    const cache = createMemoryCacheStore({ maxEntries: 10 });
    const user = uniqueId('cache-user');
    for (let i = 0; i < 20; i++) {
      const { generation } = await cache.read(user, `k${i}`);
      await cache.write(user, `k${i}`, generation, `v${i}`, 60_000);
    }
    let readable = 0;
    for (let i = 0; i < 20; i++) if ((await cache.read(user, `k${i}`)).entry !== null) readable += 1;
    assert.ok(readable <= 10, `${readable} entries readable`);
    assert.equal((await cache.read(user, 'k19')).entry?.value, 'v19');
    await cache.close();
  });
});

void describe('redis cache', () => {
  const url = requireEnv('REDIS_URL');
  let opened: ReturnType<typeof openRedisCache> | undefined;
  const shared = () => (opened ??= openRedisCache(url));
  /** A plain client playing the operator (or Redis itself): deletes keys, kills connections. */
  let rawOpened: Promise<RedisClient> | undefined;
  const raw = () => (rawOpened ??= createClient({ url }).connect());
  after(async () => {
    await (await opened)?.store.close();
    (await rawOpened)?.destroy();
  });

  void it('does not bring old entries back when the generation key is lost (evicted)', async () => {
    const { store } = await shared();
    const user = uniqueId('cache-user');
    const before = await store.read(user, 'summary');
    await store.write(user, 'summary', before.generation, 'old', 60_000);
    await (await raw()).del(`fido:cache:{${user}}:gen`);
    const after = await store.read(user, 'summary');
    assert.notEqual(after.generation, before.generation);
    assert.equal(after.entry, null);
  });

  void it('ignores a write under a generation of another Redis process', async () => {
    const { store } = await shared();
    const user = uniqueId('cache-user');
    const { generation } = await store.read(user, 'summary');
    const token = generation.slice(generation.indexOf('/') + 1);
    await store.write(user, 'summary', `${'0'.repeat(40)}/${token}`, 'from another server', 60_000);
    assert.equal((await store.read(user, 'summary')).entry, null);
  });

  void it('rejects reads and writes at once when the connection is gone', async () => {
    const { store, client } = await openRedisCache(url);
    const user = uniqueId('cache-user');
    const { generation } = await store.read(user, 'summary');
    client.destroy();
    assert.equal(await outcomeWithin(store.read(user, 'summary'), 1_000), 'rejected');
    assert.equal(
      await outcomeWithin(store.write(user, 'summary', generation, 'v', 60_000), 1_000),
      'rejected',
    );
    await store.close();
  });

  void it('serves again, entries intact, once a dropped connection is back', async () => {
    const { store, client } = await openRedisCache(url);
    try {
      const user = uniqueId('cache-user');
      const { generation } = await store.read(user, 'summary');
      await store.write(user, 'summary', generation, 'kept', 60_000);
      await (await raw()).clientKill({ filter: 'ID', id: await client.clientId() });
      const lookup = await eventually(() => store.read(user, 'summary').catch(() => undefined), 10_000, 20);
      assert.equal(lookup.generation, generation, 'same server process, same generation');
      assert.equal(lookup.entry?.value, 'kept');
    } finally {
      await store.close();
    }
  });

  void it(
    'never serves an entry from a snapshot after Redis restarts from it',
    { timeout: 30_000 },
    async () => {
      const server = await privateRedis();
      const { store } = await openRedisCache(server.url);
      try {
        const user = uniqueId('cache-user');
        const answer = () => store.read(user, 'summary').catch(() => undefined);
        const before = await eventually(answer, 10_000, 20);
        await store.write(user, 'summary', before.generation, 'in the snapshot', 60_000);
        await server.restartFromSnapshot();
        const after = await eventually(answer, 10_000, 20);
        const token = (generation: string) => generation.slice(generation.indexOf('/') + 1);
        assert.equal(token(after.generation), token(before.generation), 'the snapshot was restored');
        assert.notEqual(after.generation, before.generation);
        assert.equal(after.entry, null);
      } finally {
        await store.close();
        await server.stop();
      }
    },
  );
});

/** A redis-server of this test's own (the test bed's binary), with a snapshot file to restart from. */
async function privateRedis() {
  const dir = await mkdtemp(join(tmpdir(), 'fido-redis-'));
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  probe.close();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
  ];
  const start = () => spawn('redis-server', args, { stdio: 'ignore' });
  const kill = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  let child = start();
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    async restartFromSnapshot() {
      const admin = createClient({ url });
      await admin.connect();
      await admin.sendCommand(['SAVE']);
      admin.destroy();
      await kill(child); // a crash right after the snapshot
      child = start();
    },
    async stop() {
      await kill(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
