import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { MongoClient } from 'mongodb';
import { newTransaction, requireEnv, uniqueId, type StoreKind, type TestApp } from '../helpers.ts';

/** Writes through the API that remember what was answered, and the checks that read it all back. */

const URL = '/api/v1/transactions';

/** What the clients wrote and were answered, to compare with what the store returns after rotation. */
export interface World {
  readonly users: string[];
  /** The name of every version of each transaction, oldest first. */
  readonly names: Map<string, string[]>;
  readonly deleted: Set<string>;
  readonly replays: { key: string; body: Record<string, unknown>; response: unknown }[];
}

export const newWorld = (): World => ({
  users: [uniqueId('u'), uniqueId('u'), uniqueId('u')],
  names: new Map(),
  deleted: new Set(),
  replays: [],
});

export async function create(t: TestApp, w: World, n: number): Promise<string> {
  const body = newTransaction(w.users[n % w.users.length] ?? '', {
    full_name: `Efua ${uniqueId('n')}`,
    transaction_amount: `${n + 1}.25`,
  });
  const key = n % 3 === 0 ? uniqueId('idem') : undefined;
  const res = await t.inject({
    method: 'POST',
    url: URL,
    payload: body,
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json().id as string;
  w.names.set(id, [body.full_name as string]);
  if (key !== undefined) w.replays.push({ key, body, response: res.json() });
  return id;
}

export async function rename(t: TestApp, w: World, id: string): Promise<void> {
  const fullName = `Kwame ${uniqueId('n')}`;
  const res = await t.inject({ method: 'PATCH', url: `${URL}/${id}`, payload: { full_name: fullName } });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().full_name, fullName);
  w.names.get(id)?.push(fullName);
}

export async function seed(t: TestApp, w: World, count: number): Promise<void> {
  for (let n = 0; n < count; n += 1) {
    const id = await create(t, w, n);
    if (n % 2 === 1) await rename(t, w, id);
    if (n % 7 === 6) {
      assert.equal((await t.inject({ method: 'DELETE', url: `${URL}/${id}` })).statusCode, 204);
      w.deleted.add(id);
      const names = w.names.get(id) ?? [];
      names.push(names.at(-1) ?? ''); // the tombstone version keeps the name
    }
  }
}

/** Every sealed value as stored, read past the adapters. */
export async function rawSealed(kind: StoreKind, dataDir: string, database: string): Promise<string[]> {
  if (kind === 'embedded') {
    const db = new DatabaseSync(join(dataDir, 'fido.sqlite'), { readOnly: true });
    try {
      const sql = `SELECT full_name AS v FROM transactions UNION ALL SELECT full_name FROM audit
        UNION ALL SELECT response_sealed FROM idempotency_keys WHERE response_sealed IS NOT NULL`;
      return db
        .prepare(sql)
        .all()
        .map((row) => String(row.v));
    } finally {
      db.close();
    }
  }
  const client = await MongoClient.connect(requireEnv('MONGODB_URL'));
  try {
    const db = client.db(database);
    const heads = await db.collection('transactions').find().toArray();
    const versions = await db.collection('transaction_versions').find().toArray();
    const keys = await db
      .collection('idempotency_keys')
      .find({ response_sealed: { $ne: null } })
      .toArray();
    return [
      ...heads.map((d) => d.full_name as string),
      ...versions.flatMap((d) => [d.full_name as string, (d.audit as { full_name: string }).full_name]),
      ...keys.map((d) => d.response_sealed as string),
    ];
  } finally {
    await client.close();
  }
}

/**
 * Reads back every transaction, history page and idempotent response, and the audit trail of
 * those in `trails` (all by default: a trail read is costly on some MongoDB-protocol servers).
 */
export async function verifyAll(t: TestApp, w: World, trails?: ReadonlySet<string>): Promise<void> {
  const checkOne = async ([id, names]: [string, string[]]) => {
    const res = await t.inject({ method: 'GET', url: `${URL}/${id}` });
    assert.equal(res.statusCode, w.deleted.has(id) ? 404 : 200, res.body);
    if (!w.deleted.has(id)) assert.equal(res.json().full_name, names.at(-1));
    if (trails !== undefined && !trails.has(id)) return;
    const versions = await t.inject({ method: 'GET', url: `${URL}/${id}/versions` });
    assert.equal(versions.statusCode, 200, versions.body);
    assert.deepEqual(
      versions.json().versions.map((v: { full_name: string }) => v.full_name),
      names,
    );
  };
  const all = [...w.names];
  for (let i = 0; i < all.length; i += 8) await Promise.all(all.slice(i, i + 8).map(checkOne));
  for (const user of w.users) {
    const seen = new Map<string, string>();
    for (let cursor: string | null = null, pages = 0; pages === 0 || cursor !== null; pages += 1) {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page = await t.inject({
        method: 'GET',
        url: `/api/v1/users/${user}/transactions?limit=7${query}`,
      });
      assert.equal(page.statusCode, 200, page.body);
      for (const tx of page.json().data) seen.set(tx.id, tx.full_name);
      cursor = page.json().next_cursor;
    }
    const live = [...w.names].filter(([id]) => !w.deleted.has(id) && seen.has(id));
    assert.equal(live.length, seen.size);
    for (const [id, names] of live) assert.equal(seen.get(id), names.at(-1));
  }
  for (const replay of w.replays) {
    const res = await t.inject({
      method: 'POST',
      url: URL,
      payload: replay.body,
      headers: { 'idempotency-key': replay.key },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers['idempotent-replayed'], 'true');
    assert.deepEqual(res.json(), replay.response);
  }
}
