/**
 * What API fuzzing found, pinned as plain tests so each one fails by name if it comes back
 * (schemathesis.test.ts would find most again, but only as one large report).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newTransaction, startApp, uniqueId, type TestApp } from '../helpers.ts';

interface OpenApiOperation {
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}
type OpenApiPaths = Record<string, Record<string, OpenApiOperation>>;

describe('findings of the API fuzzer', () => {
  let t: TestApp;
  let paths: OpenApiPaths;
  before(async () => {
    t = await startApp('embedded');
    paths = (await t.inject({ method: 'GET', url: '/openapi.json' })).json().paths;
  });
  after(async () => {
    await t.close();
  });

  const create = (body: unknown, headers: Record<string, string> = {}) =>
    t.inject({ method: 'POST', url: '/api/v1/transactions', payload: body as object, headers });

  it('documents every error response as application/problem+json, as it is sent', async () => {
    const operations = Object.entries(paths)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
    assert.ok(operations.length > 0);
    for (const { path, method, op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        assert.deepEqual(
          Object.keys(response.content ?? {}),
          ['application/problem+json'],
          `${method} ${path} ${status}`,
        );
      }
      for (const status of ['401', '403', '429', '503']) {
        assert.ok(op.responses[status], `${method} ${path} declares ${status}`);
      }
    }
    const missing = await t.inject({ method: 'GET', url: '/api/v1/transactions/nope' });
    assert.equal(missing.statusCode, 404);
    assert.match(String(missing.headers['content-type']), /^application\/problem\+json/);
  });

  it('declares what a bad path parameter, a write conflict and an oversized body answer', () => {
    const byId = paths['/api/v1/transactions/{id}'];
    assert.ok(byId);
    for (const method of ['get', 'put', 'patch', 'delete']) {
      assert.ok(byId[method]?.responses['422'], `${method} declares 422 for a malformed id`);
    }
    for (const method of ['put', 'patch', 'delete']) {
      assert.ok(byId[method]?.responses['409'], `${method} declares 409 write_conflict`);
    }
    for (const method of ['put', 'patch']) {
      assert.ok(byId[method]?.responses['413'], `${method} declares 413`);
    }
  });

  it('says the liveness probe needs no token, as it answers without one', async () => {
    assert.deepEqual(paths['/health/live']?.get?.security, []);
    const res = await t.inject({ method: 'GET', url: '/health/live', headers: { authorization: '' } });
    assert.equal(res.statusCode, 200);
  });

  it("documents history's limit as optional, and a request without it gets the default page", async () => {
    const limit = paths['/api/v1/users/{user_id}/transactions']?.get?.parameters?.find(
      (p) => p.name === 'limit',
    );
    assert.ok(limit);
    assert.notEqual(limit.required, true);
    const user = uniqueId('u');
    assert.equal((await create(newTransaction(user))).statusCode, 201);
    const res = await t.inject({ method: 'GET', url: `/api/v1/users/${user}/transactions` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().data.length, 1);
  });

  it('answers 405 with Allow for every method a path lacks, before reading any body', async () => {
    for (const method of ['TRACE', 'OPTIONS', 'QUERY', 'PUT'] as const) {
      const res = await t.inject({ method, url: '/health/ready' });
      assert.equal(res.statusCode, 405, method);
      assert.equal(res.headers.allow, 'GET, HEAD');
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    }
    const malformed = await t.inject({
      method: 'PUT',
      url: '/api/v1/transactions',
      headers: { 'content-type': 'application/json' },
      payload: '{"not json',
    });
    assert.equal(malformed.statusCode, 405);
    assert.equal(malformed.headers.allow, 'POST');
  });

  it('judges the body before If-Match: a bad body is 422 even with a stale version', async () => {
    const id = (await create(newTransaction(uniqueId('u')))).json().id as string;
    const res = await t.inject({
      method: 'PATCH',
      url: `/api/v1/transactions/${id}`,
      headers: { 'if-match': '"7"', 'content-type': 'application/json' },
    });
    assert.equal(res.statusCode, 422);
    const stale = await t.inject({
      method: 'PATCH',
      url: `/api/v1/transactions/${id}`,
      headers: { 'if-match': '"7"' },
      payload: { transaction_type: 'debit' },
    });
    assert.equal(stale.statusCode, 412);
  });

  it('refuses a full name that is not valid Unicode instead of storing U+FFFD', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(newTransaction(uniqueId('u'))).replace('"Ama Mensah"', '"Ama \\ud800Mensah"'),
    });
    assert.equal(res.statusCode, 422, res.body);
    assert.deepEqual(
      res.json().errors.map((e: { pointer: string }) => e.pointer),
      ['/full_name'],
    );
    const paired = await create(newTransaction(uniqueId('u'), { full_name: 'Ama \u{1F600} Mensah' }));
    assert.equal(paired.statusCode, 201);
    assert.equal(paired.json().full_name, 'Ama \u{1F600} Mensah');
  });
});
