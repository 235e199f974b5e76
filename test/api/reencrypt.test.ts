import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { reencrypt } from '../../src/reencrypt/reencrypt.ts';
import {
  eventually,
  requireEnv,
  startApp,
  STORE_KINDS,
  TEST_JWT_SECRET,
  uniqueId,
  type StartOptions,
  type StoreKind,
  type TestApp,
} from '../helpers.ts';
import { create, newWorld, rawSealed, rename, seed, verifyAll } from './reencrypt-world.ts';

const K1 = `k1:${Buffer.alloc(32, 11).toString('base64')}`;
const K2 = `k2:${Buffer.alloc(32, 22).toString('base64')}`;

/** One store shared by successive app instances: a data dir or a database of its own. */
function place(kind: StoreKind) {
  const dataDir = mkdtempSync(join(tmpdir(), 'fido-rotation-'));
  const database = uniqueId('fido_rot').replaceAll('-', '_');
  const env = { DATA_DIR: dataDir, ...(kind === 'mongodb' ? { MONGODB_DATABASE: database } : {}) };
  const open = new Set<TestApp>();
  async function start(keys: string, options: StartOptions = {}): Promise<TestApp> {
    const t = await startApp(kind, { ...env, ENCRYPTION_KEYS: keys }, options);
    open.add(t);
    return {
      ...t,
      close: async () => {
        open.delete(t);
        await t.close();
      },
    };
  }
  /** Also closes an app a failed assertion left open, so the process can end. */
  async function drop(): Promise<void> {
    for (const t of open) await t.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    if (kind !== 'mongodb') return;
    const client = await MongoClient.connect(requireEnv('MONGODB_URL'));
    await client.db(database).dropDatabase();
    await client.close();
  }
  return { dataDir, database, env, start, drop };
}

for (const kind of STORE_KINDS) {
  void describe(`key rotation on the ${kind} store`, () => {
    void it('re-seals everything while clients write, after which the old key can go', async () => {
      const store = place(kind);
      const w = newWorld();
      try {
        const before = await store.start(K1);
        await seed(before, w, 40);
        const seeded = new Set(w.names.keys());
        await before.close();

        // With the worker, whose outbox relay marks the version documents being re-sealed.
        const during = await store.start(`${K2},${K1}`, { worker: true });
        // Four clients create, rename what they created and rename transactions written under k1,
        // paced by the run's progress so that they meet it in every collection it walks.
        const older = [...seeded].filter((id) => !w.deleted.has(id));
        const stale = await during.deps.storage.reencryption.countStale('v1.k2.');
        const run = { handled: 0, over: false, writes: 0 };
        const writer = async (worker: number) => {
          const mine = older.filter((_, i) => i % 4 === worker);
          let id = '';
          for (let k = 0; k < 50; k += 1) {
            const due = () => Promise.resolve(run.over || run.handled >= (k * stale) / 50 ? true : undefined);
            await eventually(due, 60_000, 5);
            if (k % 2 === 0) id = await create(during, w, 1000 + worker * 100 + k);
            else await rename(during, w, k % 4 === 1 ? (mine[(k >> 2) % mine.length] ?? id) : id);
            run.writes += 1;
          }
        };
        const clients = Promise.all([0, 1, 2, 3].map(writer));
        const keyring = during.deps.keyring;
        const first = await reencrypt(
          { store: during.deps.storage.reencryption, keyring },
          { batchSize: 10, onProgress: () => (run.handled += 1) },
        );
        run.over = true;
        assert.ok(run.writes > 0, 'no write completed while the run went on');
        await clients;
        assert.equal(first.failed, 0);
        assert.equal(first.remaining, 0);
        assert.ok(first.resealed >= 40, `re-sealed ${first.resealed}`);
        const second = await reencrypt({ store: during.deps.storage.reencryption, keyring });
        assert.deepEqual([second.resealed, second.remaining, second.passes], [0, 0, 1]);
        await during.close();

        const sealed = await rawSealed(kind, store.dataDir, store.database);
        assert.ok(sealed.length > 300, `only ${sealed.length} sealed values`);
        assert.deepEqual(
          sealed.filter((v) => !v.startsWith('v1.k2.')),
          [],
        );
        const after = await store.start(K2);
        // Every trail that held values sealed under k1; those begun under k2 were never re-sealed.
        await verifyAll(after, w, seeded);
        await after.close();
      } finally {
        await store.drop();
      }
    });

    void it('continues a run that was stopped midway without redoing what it did', async () => {
      const store = place(kind);
      const w = newWorld();
      try {
        const before = await store.start(K1);
        await seed(before, w, 12);
        await before.close();
        const during = await store.start(`${K2},${K1}`);
        const deps = { store: during.deps.storage.reencryption, keyring: during.deps.keyring };
        const stale = await deps.store.countStale('v1.k2.');
        const controller = new AbortController();
        const stopped = await reencrypt(deps, {
          batchSize: 4,
          signal: controller.signal,
          onProgress: (p) => {
            if (p.resealed === 5) controller.abort();
          },
        });
        assert.deepEqual([stopped.aborted, stopped.resealed, stopped.remaining], [true, 5, stale - 5]);
        const resumed = await reencrypt(deps);
        assert.deepEqual([resumed.aborted, resumed.resealed, resumed.remaining], [false, stale - 5, 0]);
        await during.close();
        const after = await store.start(K2);
        await verifyAll(after, w);
        await after.close();
      } finally {
        await store.drop();
      }
    });

    void it('`npm run reencrypt` reports its counts and exits 0, then finds nothing left', async () => {
      const store = place(kind);
      try {
        const before = await store.start(K1);
        await seed(before, newWorld(), 5);
        await before.close();
        const env = {
          ...process.env,
          ...store.env,
          ...(kind === 'mongodb' ? { MONGODB_URL: requireEnv('MONGODB_URL') } : { MONGODB_URL: '' }),
          KAFKA_BROKERS: '',
          REDIS_URL: '',
          ENCRYPTION_KEYS: `${K2},${K1}`,
          JWT_SECRET: TEST_JWT_SECRET,
          LOG_LEVEL: 'silent',
        };
        const run = () => spawnSync(process.execPath, ['scripts/reencrypt.ts'], { env, encoding: 'utf8' });
        const first = run();
        assert.equal(first.status, 0, first.stderr);
        assert.match(first.stdout, /to key k2: re-sealed [1-9]\d*, skipped 0, failed 0, remaining 0/);
        const second = run();
        assert.equal(second.status, 0, second.stderr);
        assert.match(second.stdout, /re-sealed 0, skipped 0, failed 0, remaining 0 after 1 pass/);
      } finally {
        await store.drop();
      }
    });
  });
}
