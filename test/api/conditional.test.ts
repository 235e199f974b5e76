import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  newTransaction,
  requireEnv,
  startApp,
  twoInstancesSharingRedis,
  uniqueId,
  type StoreKind,
  type TestApp,
} from '../helpers.ts';

/** Every read that returns a representation, for one user (a record id for the single read). */
const reads = (userId: string, id: string) => ({
  history: `/api/v1/users/${userId}/transactions?limit=10`,
  analytics: `/api/v1/users/${userId}/analytics?from=2024-10-01&to=2024-10-31`,
  'credit score': `/api/v1/users/${userId}/credit-score`,
  alerts: `/api/v1/users/${userId}/alerts`,
  'one transaction': `/api/v1/transactions/${id}`,
});

async function create(t: TestApp, userId: string, amount: string): Promise<{ id: string }> {
  const res = await t.inject({
    method: 'POST',
    url: '/api/v1/transactions',
    payload: newTransaction(userId, { transaction_amount: amount }),
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

async function tagOf(t: TestApp, url: string): Promise<{ tag: string; body: string }> {
  const res = await t.inject({ method: 'GET', url });
  assert.equal(res.statusCode, 200, res.body);
  const tag = res.headers.etag;
  assert.ok(typeof tag === 'string' && /^"[^"]+"$/.test(tag), `${url}: a strong ETag, got ${String(tag)}`);
  return { tag, body: res.body };
}

const conditional = (t: TestApp, url: string, tag: string) =>
  t.inject({ method: 'GET', url, headers: { 'if-none-match': tag } });

for (const [label, store, env] of [
  ['embedded store, in-memory cache', 'embedded', {}],
  ['MongoDB store, Redis cache', 'mongodb', { REDIS_URL: requireEnv('REDIS_URL') }],
] as const satisfies readonly (readonly [string, StoreKind, Record<string, string>])[]) {
  describe(`conditional reads (${label})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(store, { ...env, ANALYTICS_WAIT_MS: '0' });
    });
    after(() => t.close());

    it('answers If-None-Match with the current tag 304, no body, the same tag and every guarantee header', async () => {
      const user = uniqueId('etag');
      const { id } = await create(t, user, '10.00');
      for (const [name, url] of Object.entries(reads(user, id))) {
        const { tag } = await tagOf(t, url);
        const res = await conditional(t, url, tag);
        assert.equal(res.statusCode, 304, `${name}: ${res.body}`);
        assert.equal(res.body, '', `${name}: no body`);
        assert.equal(res.headers.etag, tag, name);
        assert.equal(res.headers['cache-control'], 'no-store', name);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', name);
        assert.ok(res.headers['ratelimit-remaining'] !== undefined, `${name}: counted against the limit`);
        // a list naming it, and the weak form, match too (RFC 9110 weak comparison)
        assert.equal((await conditional(t, url, `"other", W/${tag}`)).statusCode, 304, name);
        assert.equal((await conditional(t, url, '"other"')).statusCode, 200, name);
      }
    });

    it("changes every tag of the user after a write of the user, and no other user's", async () => {
      const [user, bystander] = [uniqueId('etag-w'), uniqueId('etag-b')];
      const { id } = await create(t, user, '10.00');
      const other = await create(t, bystander, '20.00');
      const urls = reads(user, id);
      const before = new Map<string, string>();
      for (const [name, url] of Object.entries(urls)) before.set(name, (await tagOf(t, url)).tag);
      const bystanderUrl = reads(bystander, other.id).history;
      const bystanderTag = (await tagOf(t, bystanderUrl)).tag;
      const patched = await t.inject({
        method: 'PATCH',
        url: `/api/v1/transactions/${id}`,
        payload: { transaction_amount: '12.00' },
      });
      assert.equal(patched.statusCode, 200, patched.body);
      for (const [name, url] of Object.entries(urls)) {
        const res = await conditional(t, url, before.get(name) ?? '');
        assert.equal(res.statusCode, 200, `${name}: the old tag no longer matches`);
        assert.notEqual(res.headers.etag, before.get(name), name);
      }
      const history = await t.inject({ method: 'GET', url: urls.history });
      assert.equal(
        history.json<{ data: { transaction_amount: string }[] }>().data[0]?.transaction_amount,
        '12.00',
      );
      assert.equal(
        (await conditional(t, bystanderUrl, bystanderTag)).statusCode,
        304,
        'the bystander is unchanged',
      );
    });

    it('still refuses a bad cursor with a problem, whatever the If-None-Match', async () => {
      const user = uniqueId('etag-r');
      await create(t, user, '1.00');
      const { tag } = await tagOf(t, reads(user, 'x').history);
      const bad = await t.inject({
        method: 'GET',
        url: `${reads(user, 'x').history}&cursor=nonsense`,
        headers: { 'if-none-match': tag },
      });
      assert.equal(bad.statusCode, 400, bad.body);
      assert.match(String(bad.headers['content-type']), /application\/problem\+json/);
    });
  });
}

describe('conditional reads across two API instances sharing one Redis', () => {
  const pair = twoInstancesSharingRedis();

  it("a write through one instance changes the other's tags, and its next read shows the write", async () => {
    const { a, b } = pair;
    const user = uniqueId('etag-shared');
    const { id } = await create(a, user, '1.00');
    const urls = reads(user, id);
    for (let i = 2; i <= 4; i++) {
      const tags = new Map<string, string>();
      for (const [name, url] of Object.entries(urls)) {
        const { tag } = await tagOf(a, url);
        tags.set(name, tag);
        assert.equal((await conditional(a, url, tag)).statusCode, 304, `${name} is held by a`);
      }
      const { id: written } = await create(b, user, `${i}.00`);
      for (const [name, url] of Object.entries(urls)) {
        if (name === 'one transaction') continue; // that record did not change
        const res = await conditional(a, url, tags.get(name) ?? '');
        assert.equal(res.statusCode, 200, `${name}: the write through b changed the tag on a`);
        assert.notEqual(res.headers.etag, tags.get(name));
      }
      const page = await a.inject({ method: 'GET', url: urls.history });
      assert.equal(page.json<{ data: { id: string }[] }>().data[0]?.id, written, 'a reads b\u2019s write');
      const analytics = await a.inject({ method: 'GET', url: urls.analytics });
      assert.equal(analytics.json<{ transaction_count: number }>().transaction_count, i);
    }
  });
});

describe('the OpenAPI document', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp('embedded');
  });
  after(() => t.close());

  it('declares 304 Not Modified on every conditional read', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, { get?: { responses?: Record<string, unknown> } }>;
    }>();
    for (const path of [
      '/api/v1/users/{user_id}/transactions',
      '/api/v1/users/{user_id}/analytics',
      '/api/v1/users/{user_id}/credit-score',
      '/api/v1/users/{user_id}/alerts',
      '/api/v1/transactions/{id}',
    ]) {
      assert.ok(doc.paths[path]?.get?.responses?.['304'], `${path} declares 304`);
    }
  });
});
