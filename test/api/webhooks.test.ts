import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { requireEnv, STORE_KINDS, startApp, tokenFor, uniqueId, type TestApp } from '../helpers.ts';

const ALLOWED_HOSTS = 'hooks.example.com,*.partner.example';

/** Every file under `dir`, recursively (SQLite's WAL and the embedded event log included). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

for (const store of STORE_KINDS) {
  describe(`webhooks API on the ${store} store`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(store, { WEBHOOK_ALLOWED_HOSTS: ALLOWED_HOSTS });
    });
    after(async () => {
      if (store === 'mongodb') {
        const client = await MongoClient.connect(requireEnv('MONGODB_URL'));
        await client.db(t.database).dropDatabase();
        await client.close();
      }
      await t.close();
    });

    const bearer = async (sub: string, scope = 'webhooks:manage') => ({
      authorization: `Bearer ${await tokenFor({ sub, scope })}`,
    });
    const subscribe = (payload: object, headers: Record<string, string> = {}) =>
      t.inject({ method: 'POST', url: '/api/v1/webhooks', payload, headers });
    const aBody = (overrides: object = {}) => ({
      url: `https://hooks.example.com/${uniqueId('in')}`,
      event_types: ['transaction.*', 'alert.raised'],
      ...overrides,
    });

    it('subscribes: 201 with Location and the secret, which no later response shows again', async () => {
      const created = await subscribe(aBody());
      assert.equal(created.statusCode, 201, created.body);
      const body = created.json();
      assert.equal(created.headers.location, `/api/v1/webhooks/${body.id}`);
      assert.match(body.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(body.event_types, ['transaction.*', 'alert.raised']);
      assert.ok(!Number.isNaN(Date.parse(body.created_at)));

      const chosen = 'my-own-secret-of-24-chars-or-more';
      const own = await subscribe(aBody({ secret: chosen, event_types: ['credit_score.changed'] }));
      assert.equal(own.statusCode, 201, own.body);
      assert.equal(own.json().secret, chosen);

      const one = await t.inject({ method: 'GET', url: `/api/v1/webhooks/${body.id}` });
      assert.equal(one.statusCode, 200);
      const withoutSecret = {
        id: body.id,
        url: body.url,
        event_types: body.event_types,
        created_at: body.created_at,
      };
      assert.deepEqual(one.json(), withoutSecret);
      const list = await t.inject({ method: 'GET', url: '/api/v1/webhooks' });
      assert.equal(list.statusCode, 200);
      const listed = list.json().data as Record<string, unknown>[];
      assert.deepEqual(
        listed.find((w) => w.id === body.id),
        withoutSecret,
      );
      assert.equal(list.body.includes(body.secret as string), false);
      assert.equal(list.body.includes(chosen), false);
    });

    it("isolates owners: a client sees and deletes only its own; a service token sees all; another's answers 404", async () => {
      const alice = await bearer(uniqueId('alice'));
      const bob = await bearer(uniqueId('bob'));
      const mine = (await subscribe(aBody(), alice)).json().id as string;
      const list = async (headers: Record<string, string>) =>
        (
          (await t.inject({ method: 'GET', url: '/api/v1/webhooks', headers })).json().data as {
            id: string;
          }[]
        ).map((w) => w.id);
      assert.deepEqual(await list(alice), [mine]);
      assert.deepEqual(await list(bob), []);
      assert.ok((await list({})).includes(mine));
      for (const [method, url] of [
        ['GET', `/api/v1/webhooks/${mine}`],
        ['GET', `/api/v1/webhooks/${mine}/deliveries`],
        ['DELETE', `/api/v1/webhooks/${mine}`],
      ] as const) {
        const res = await t.inject({ method, url, headers: bob });
        assert.equal(res.statusCode, 404, `${method} ${url}`);
      }
      assert.deepEqual(await list(alice), [mine]);
      const deliveries = await t.inject({
        method: 'GET',
        url: `/api/v1/webhooks/${mine}/deliveries`,
        headers: alice,
      });
      assert.equal(deliveries.statusCode, 200);
      assert.deepEqual(deliveries.json(), { data: [] });
    });

    it('requires the webhooks:manage scope on every route', async () => {
      const reader = await bearer(uniqueId('reader'), 'transactions:read transactions:write analytics:read');
      const id = (await subscribe(aBody())).json().id as string;
      for (const [method, url] of [
        ['POST', '/api/v1/webhooks'],
        ['GET', '/api/v1/webhooks'],
        ['GET', `/api/v1/webhooks/${id}`],
        ['GET', `/api/v1/webhooks/${id}/deliveries`],
        ['DELETE', `/api/v1/webhooks/${id}`],
      ] as const) {
        const res = await t.inject({
          method,
          url,
          headers: reader,
          ...(method === 'POST' ? { payload: aBody() } : {}),
        });
        assert.equal(res.statusCode, 403, `${method} ${url}`);
        assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      }
    });

    it('refuses a URL that is not plain http(s), carries credentials or names a host not allowed; 422 naming /url', async () => {
      for (const url of [
        'ftp://hooks.example.com/in',
        'file:///etc/passwd',
        'https://user:pass@hooks.example.com/in',
        'https://evil.example.net/in',
        'http://169.254.169.254/latest/meta-data',
        'hooks.example.com/in',
        `https://hooks.example.com/${'a'.repeat(2048)}`,
      ]) {
        const res = await subscribe(aBody({ url }));
        assert.equal(res.statusCode, 422, url);
        assert.deepEqual(
          (res.json().errors as { pointer: string }[]).map((e) => e.pointer),
          ['/url'],
          url,
        );
      }
      const subdomain = await subscribe(aBody({ url: 'http://a.partner.example:8443/in?x=1' }));
      assert.equal(subdomain.statusCode, 201, subdomain.body);
    });

    it('refuses unknown, duplicate or no event types and a short secret, every field in one 422', async () => {
      const res = await subscribe({
        url: 'https://user:pw@hooks.example.com/in',
        event_types: ['transaction.created', 'payment.made'],
        secret: 'too-short',
      });
      assert.equal(res.statusCode, 422);
      const pointers = (res.json().errors as { pointer: string }[]).map((e) => e.pointer).sort();
      assert.deepEqual(pointers, ['/event_types/1', '/secret', '/url']);
      for (const event_types of [[], ['alert.raised', 'alert.raised']]) {
        const again = await subscribe(aBody({ event_types }));
        assert.equal(again.statusCode, 422, JSON.stringify(event_types));
        assert.equal((again.json().errors as { pointer: string }[])[0]?.pointer, '/event_types');
      }
    });

    it('deletes: 204, then 404; the deleted subscription is gone from the list', async () => {
      const id = (await subscribe(aBody())).json().id as string;
      const first = await t.inject({ method: 'DELETE', url: `/api/v1/webhooks/${id}` });
      assert.equal(first.statusCode, 204);
      const second = await t.inject({ method: 'DELETE', url: `/api/v1/webhooks/${id}` });
      assert.equal(second.statusCode, 404);
      assert.equal(
        (await t.inject({ method: 'GET', url: `/api/v1/webhooks/${id}/deliveries` })).statusCode,
        404,
      );
      const list = (await t.inject({ method: 'GET', url: '/api/v1/webhooks' })).json().data as {
        id: string;
      }[];
      assert.equal(
        list.some((w) => w.id === id),
        false,
      );
    });

    it('keeps the secret sealed at rest: no stored byte holds it in clear', async () => {
      const secret = `clear-secret-${uniqueId('s')}`;
      const res = await subscribe(aBody({ secret }));
      assert.equal(res.statusCode, 201);
      if (store === 'embedded') {
        const files = filesUnder(t.dataDir).map((file) => ({ file, bytes: readFileSync(file) }));
        // the subscription itself is on disk, so the search below looks where the secret would be
        assert.ok(files.some(({ bytes }) => bytes.includes(Buffer.from(res.json().id as string))));
        for (const { file, bytes } of files) {
          assert.equal(bytes.includes(Buffer.from(secret)), false, `${file} holds the secret`);
        }
        return;
      }
      const client = await MongoClient.connect(requireEnv('MONGODB_URL'));
      try {
        const db = client.db(t.database);
        const stored = await db.collection('webhooks').findOne({ _id: res.json().id as never });
        assert.match(String(stored?.secret_sealed), /^v1\./);
        for (const { name } of await db.listCollections().toArray()) {
          const docs = await db.collection(name).find({}).toArray();
          assert.equal(JSON.stringify(docs).includes(secret), false, `${name} holds the secret`);
        }
      } finally {
        await client.close();
      }
    });
  });
}
