import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { newTransaction, requireEnv, startApp, uniqueId, type TestApp } from '../helpers.ts';

const NAME = `Akosua Clearname ${uniqueId('n')}`;

async function createTwo(t: TestApp, user: string, key: string): Promise<[string, string]> {
  const ids: string[] = [];
  for (const [i, name] of [NAME, 'Another Person'].entries()) {
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      payload: newTransaction(user, { full_name: name }),
      headers: { 'idempotency-key': `${key}-${i}` },
    });
    assert.equal(res.statusCode, 201);
    ids.push(res.json().id as string);
  }
  const patched = await t.inject({
    method: 'PATCH',
    url: `/api/v1/transactions/${ids[0] ?? ''}`,
    payload: { full_name: `${NAME} Jr` },
  });
  assert.equal(patched.statusCode, 200);
  return [ids[0] ?? '', ids[1] ?? ''];
}

describe('the customer name at rest', () => {
  it('embedded store: no file under DATA_DIR holds the clear name; data survives a restart', async () => {
    const user = uniqueId('u');
    const t = await startApp('embedded');
    const [id] = await createTwo(t, user, uniqueId('k'));
    await t.app.close();
    await t.deps.close();
    for (const file of readdirSync(t.dataDir)) {
      const bytes = readFileSync(join(t.dataDir, file));
      assert.equal(bytes.includes(Buffer.from('Clearname')), false, `${file} holds the clear name`);
    }
    const again = await startApp('embedded', { DATA_DIR: t.dataDir });
    try {
      const read = await again.inject({ method: 'GET', url: `/api/v1/transactions/${id}` });
      assert.equal(read.statusCode, 200);
      assert.equal(read.json().full_name, `${NAME} Jr`);
    } finally {
      await again.close();
    }
  });

  it('embedded store: a sealed name moved to another record fails authentication with a bare 500', async () => {
    const t = await startApp('embedded');
    try {
      const [a, b] = await createTwo(t, uniqueId('u'), uniqueId('k'));
      const db = new DatabaseSync(join(t.dataDir, 'fido.sqlite'));
      const row = db.prepare('SELECT full_name FROM transactions WHERE id = ?').get(b) as {
        full_name: string;
      };
      db.prepare('UPDATE transactions SET full_name = ? WHERE id = ?').run(row.full_name, a);
      db.close();
      const res = await t.inject({ method: 'GET', url: `/api/v1/transactions/${a}` });
      assert.equal(res.statusCode, 500);
      assert.deepEqual(Object.keys(res.json()).sort(), ['code', 'instance', 'status', 'title', 'type']);
      assert.equal(res.body.includes('Another'), false);
    } finally {
      await t.close();
    }
  });

  it('MongoDB: no document in any collection holds the clear name; a swapped ciphertext is a 500', async () => {
    const t = await startApp('mongodb');
    const client = await MongoClient.connect(requireEnv('MONGODB_URL'));
    try {
      const [a, b] = await createTwo(t, uniqueId('u'), uniqueId('k'));
      const db = client.db(t.database);
      const collections = await db.listCollections().toArray();
      assert.ok(collections.length >= 2);
      for (const { name } of collections) {
        const docs = await db.collection(name).find({}).toArray();
        assert.equal(JSON.stringify(docs).includes('Clearname'), false, `${name} holds the clear name`);
      }
      const transactions = db.collection<{ _id: string; full_name: string }>('transactions');
      const other = await transactions.findOne({ _id: b });
      assert.ok(other);
      await transactions.updateOne({ _id: a }, { $set: { full_name: other.full_name } });
      const res = await t.inject({ method: 'GET', url: `/api/v1/transactions/${a}` });
      assert.equal(res.statusCode, 500);
      assert.equal(res.json().detail, undefined);
    } finally {
      await client.db(t.database).dropDatabase();
      await client.close();
      await t.close();
    }
  });
});
