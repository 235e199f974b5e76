import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT } from 'jose';
import { newTransaction, startApp, tokenFor, uniqueId, type TestApp } from '../helpers.ts';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const ALL = 'transactions:read transactions:write analytics:read';

describe('authentication and authorization (OWASP API1/API2/API5)', () => {
  let t: TestApp;
  let owner: string;
  let txId: string;
  const as = (token: string | undefined) => (token === undefined ? {} : { authorization: `Bearer ${token}` });

  before(async () => {
    t = await startApp('embedded');
    owner = uniqueId('owner');
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      payload: newTransaction(owner),
    });
    txId = res.json().id as string;
  });
  after(async () => {
    await t.close();
  });

  /** Every route with a request that succeeds for the owner. */
  const routes = () => [
    {
      name: 'create',
      method: 'POST' as const,
      url: '/api/v1/transactions',
      payload: newTransaction(owner),
      ok: 201,
    },
    { name: 'read', method: 'GET' as const, url: `/api/v1/transactions/${txId}`, ok: 200 },
    {
      name: 'replace',
      method: 'PUT' as const,
      url: `/api/v1/transactions/${txId}`,
      payload: newTransaction(owner),
      ok: 200,
    },
    {
      name: 'patch',
      method: 'PATCH' as const,
      url: `/api/v1/transactions/${txId}`,
      payload: { transaction_type: 'debit' },
      ok: 200,
    },
    { name: 'history', method: 'GET' as const, url: `/api/v1/users/${owner}/transactions`, ok: 200 },
    { name: 'analytics', method: 'GET' as const, url: `/api/v1/users/${owner}/analytics`, ok: 200 },
  ];

  it('refuses missing, expired, forged, unsigned and confused tokens with 401 and a challenge', async () => {
    const now = Math.floor(Date.now() / 1000);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const bad: Record<string, string | undefined> = {
      missing: undefined,
      expired: await tokenFor({ sub: owner, scope: ALL, expiresIn: -120 }),
      wrongSignature: await tokenFor({
        sub: owner,
        scope: ALL,
        secret: 'another-secret-that-is-long-enough-xx',
      }),
      algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: owner, scope: 'service', exp: now + 600 })}.`,
      rs256: await new SignJWT({ scope: 'service' })
        .setProtectedHeader({ alg: 'RS256' })
        .setSubject(owner)
        .setExpirationTime(now + 600)
        .sign(privateKey),
      noExp: await new SignJWT({ scope: 'service' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(owner)
        .sign(new TextEncoder().encode('test-secret-that-is-long-enough-for-hs256!')),
      notYetValid: await tokenFor({ sub: owner, scope: ALL, claims: { nbf: now + 3600 } }),
      garbage: 'not.a.jwt',
    };
    for (const route of routes()) {
      for (const [name, token] of Object.entries(bad)) {
        const res = await t.app.inject({
          method: route.method,
          url: route.url,
          payload: route.payload,
          headers: as(token),
        });
        assert.equal(res.statusCode, 401, `${route.name} with ${name}: ${res.body}`);
        assert.match(String(res.headers['www-authenticate']), /^Bearer realm="fido"/);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      }
    }
  });

  it('a token accepted once (and remembered) still does not vouch for a copy with another signature', async () => {
    const good = await tokenFor({ sub: owner, scope: ALL });
    const url = `/api/v1/users/${owner}/analytics`;
    assert.equal((await t.app.inject({ method: 'GET', url, headers: as(good) })).statusCode, 200);
    const [header, payload, signature = ''] = good.split('.');
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    const forged = [header, payload, flipped].join('.');
    const res = await t.app.inject({ method: 'GET', url, headers: as(forged) });
    assert.equal(res.statusCode, 401, res.body);
    assert.equal((await t.app.inject({ method: 'GET', url, headers: as(good) })).statusCode, 200);
  });

  it('a token without the route scope gets 403 insufficient_scope', async () => {
    const readOnly = await tokenFor({ sub: owner, scope: 'transactions:read' });
    const writeOnly = await tokenFor({ sub: owner, scope: 'transactions:write' });
    for (const route of routes()) {
      const token = route.method === 'GET' ? writeOnly : readOnly;
      const res = await t.app.inject({
        method: route.method,
        url: route.url,
        payload: route.payload,
        headers: as(token),
      });
      assert.equal(res.statusCode, 403, `${route.name}: ${res.body}`);
      assert.equal(res.json().code, 'insufficient_scope');
    }
  });

  it("another user's token: 404 on the owner's resources, 403 when writing for the owner", async () => {
    const stranger = await tokenFor({ sub: uniqueId('stranger'), scope: ALL });
    for (const route of routes()) {
      const res = await t.app.inject({
        method: route.method,
        url: route.url,
        payload: route.payload,
        headers: as(stranger),
      });
      assert.equal(res.statusCode, route.name === 'create' ? 403 : 404, `${route.name}: ${res.body}`);
    }
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/transactions/${txId}`,
      headers: as(stranger),
    });
    assert.equal(del.statusCode, 404);
    const missing = await t.app.inject({
      method: 'GET',
      url: '/api/v1/transactions/NOPE',
      headers: as(stranger),
    });
    assert.deepEqual(
      { status: missing.statusCode, detail: missing.json().title },
      {
        status: 404,
        detail: (
          await t.app.inject({ method: 'GET', url: `/api/v1/transactions/${txId}`, headers: as(stranger) })
        ).json().title,
      },
      'a foreign id and a missing id look the same',
    );
  });

  it("the owner's own token and a service token both succeed on every route", async () => {
    const own = await tokenFor({ sub: owner, scope: ALL });
    const service = await tokenFor({ sub: 'ledger-service', scope: 'service' });
    for (const token of [own, service]) {
      for (const route of routes()) {
        const res = await t.app.inject({
          method: route.method,
          url: route.url,
          payload: route.payload,
          headers: as(token),
        });
        assert.equal(res.statusCode, route.ok, `${route.name}: ${res.body}`);
      }
    }
  });

  it('the audit trail answers service tokens only', async () => {
    const url = `/api/v1/transactions/${txId}/versions`;
    const own = await tokenFor({ sub: owner, scope: ALL });
    const service = await tokenFor({ sub: 'auditor', scope: 'service' });
    assert.equal((await t.app.inject({ method: 'GET', url, headers: as(own) })).statusCode, 403);
    assert.equal((await t.app.inject({ method: 'GET', url })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url, headers: as(service) })).statusCode, 200);
  });

  it('no write route lets a client set server fields (mass assignment, OWASP API3)', async () => {
    for (const field of [
      { id: 'mine' },
      { version: 99 },
      { created_at: '2024-01-01T00:00:00Z' },
      { updated_at: '2024-01-01T00:00:00Z' },
    ]) {
      for (const [method, url, body] of [
        ['POST', '/api/v1/transactions', newTransaction(owner, field)],
        ['PUT', `/api/v1/transactions/${txId}`, newTransaction(owner, field)],
        ['PATCH', `/api/v1/transactions/${txId}`, field],
      ] as const) {
        const res = await t.inject({ method, url, payload: body });
        assert.equal(res.statusCode, 422, `${method} ${JSON.stringify(field)}`);
      }
    }
  });

  it('operator payloads in path parameters never reach a query', async () => {
    for (const value of ['{"$gt":""}', '[$ne]=1', '$where', "' || '1'=='1"]) {
      const encoded = encodeURIComponent(value);
      for (const url of [
        `/api/v1/transactions/${encoded}`,
        `/api/v1/users/${encoded}/transactions`,
        `/api/v1/users/${encoded}/analytics`,
      ]) {
        const res = await t.inject({ method: 'GET', url });
        assert.ok([400, 404, 422].includes(res.statusCode), `${url}: ${res.statusCode}`);
      }
    }
  });

  it('Idempotency-Keys are scoped to the client: the same key from two clients creates two transactions', async () => {
    const key = uniqueId('key');
    const a = await tokenFor({ sub: 'svc-a', scope: 'service' });
    const b = await tokenFor({ sub: 'svc-b', scope: 'service' });
    const user = uniqueId('u');
    const post = (token: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/transactions',
        payload: newTransaction(user),
        headers: { ...as(token), 'idempotency-key': key },
      });
    const [first, second] = [await post(a), await post(b)];
    assert.equal(first.statusCode, 201);
    assert.equal(second.statusCode, 201);
    assert.equal(second.headers['idempotent-replayed'], undefined);
    assert.notEqual(first.json().id, second.json().id);
  });

  it('health and docs stay open; the OpenAPI document declares bearer auth', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
  });
});

describe('AUTH_DISABLED and issuer/audience checks', () => {
  it('AUTH_DISABLED=true serves without a token', async () => {
    const t = await startApp('embedded', { AUTH_DISABLED: 'true' });
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/transactions',
        payload: newTransaction(uniqueId('u')),
      });
      assert.equal(res.statusCode, 201);
    } finally {
      await t.close();
    }
  });

  it('JWT_ISSUER and JWT_AUDIENCE are enforced when set', async () => {
    const t = await startApp('embedded', {
      JWT_ISSUER: 'https://id.fido.example',
      JWT_AUDIENCE: 'fido-transactions',
    });
    try {
      const url = `/api/v1/users/${uniqueId('u')}/transactions`;
      const right = await tokenFor({ claims: { iss: 'https://id.fido.example', aud: 'fido-transactions' } });
      const wrongIssuer = await tokenFor({
        claims: { iss: 'https://evil.example', aud: 'fido-transactions' },
      });
      const noAudience = await tokenFor({ claims: { iss: 'https://id.fido.example' } });
      assert.equal(
        (await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${right}` } }))
          .statusCode,
        200,
      );
      assert.equal(
        (await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${wrongIssuer}` } }))
          .statusCode,
        401,
      );
      assert.equal(
        (await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${noAudience}` } }))
          .statusCode,
        401,
      );
    } finally {
      await t.close();
    }
  });
});

describe('JWT_JWKS_URL: RS256 keys from a JSON Web Key Set', () => {
  it('accepts a token signed by a published key; refuses unknown keys and HS256 signed with the public key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k-1', alg: 'RS256', use: 'sig' };
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const t = await startApp('embedded', { JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` });
    try {
      const url = `/api/v1/users/${uniqueId('u')}/transactions`;
      const now = Math.floor(Date.now() / 1000);
      const sign = (kid: string, key: Parameters<SignJWT['sign']>[0], alg = 'RS256') =>
        new SignJWT({ scope: 'service' })
          .setProtectedHeader({ alg, kid })
          .setSubject('svc')
          .setExpirationTime(now + 600)
          .sign(key);
      const good = await sign('k-1', privateKey);
      const unknownKid = await sign('k-2', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
      const confused = await sign(
        'k-1',
        new TextEncoder().encode(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
        'HS256',
      );
      const call = (token: string) =>
        t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      assert.equal((await call(good)).statusCode, 200);
      assert.equal((await call(unknownKid)).statusCode, 401);
      assert.equal((await call(confused)).statusCode, 401);
    } finally {
      await t.close();
      server.close();
    }
  });
});
