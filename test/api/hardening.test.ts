import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { startApp, tokenFor, uniqueId, type TestApp } from '../helpers.ts';

const ORIGIN = 'https://app.fido.example';

function assertSecurityHeaders(res: LightMyRequestResponse, where: string): void {
  const h = res.headers;
  assert.equal(h['x-content-type-options'], 'nosniff', where);
  assert.equal(h['x-frame-options'], 'DENY', where);
  assert.match(String(h['strict-transport-security']), /max-age=\d+/, where);
  assert.equal(h['referrer-policy'], 'no-referrer', where);
  assert.equal(h['cross-origin-resource-policy'], 'same-origin', where);
  assert.match(String(h['content-security-policy']), /default-src 'none'/, where);
  assert.match(String(h['content-security-policy']), /frame-ancestors 'none'/, where);
  assert.equal(h['x-powered-by'], undefined, where);
}

const preflight = (t: TestApp, origin: string) =>
  t.app.inject({
    method: 'OPTIONS',
    url: '/api/v1/transactions',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

describe('HTTP hardening', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp('embedded');
  });
  after(async () => {
    await t.close();
  });

  it('sends security headers on /api/v1 (success and errors), /health and unknown routes', async () => {
    const user = uniqueId('u');
    assertSecurityHeaders(
      await t.inject({ method: 'GET', url: `/api/v1/users/${user}/transactions` }),
      'api 200',
    );
    assertSecurityHeaders(await t.app.inject({ method: 'GET', url: '/api/v1/transactions/x' }), 'api 401');
    assertSecurityHeaders(await t.app.inject({ method: 'GET', url: '/health/live' }), 'health');
    assertSecurityHeaders(await t.app.inject({ method: 'GET', url: '/nowhere' }), '404');
  });

  it('forbids caching of every /api/v1 response: they carry personal data', async () => {
    const ok = await t.inject({ method: 'GET', url: `/api/v1/users/${uniqueId('u')}/transactions` });
    const unauthorized = await t.app.inject({ method: 'GET', url: '/api/v1/transactions/x' });
    const invalid = await t.inject({ method: 'POST', url: '/api/v1/transactions', payload: {} });
    for (const res of [ok, unauthorized, invalid]) assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual([ok.statusCode, unauthorized.statusCode, invalid.statusCode], [200, 401, 422]);
  });

  it('keeps the Swagger UI loadable under its own CSP', async () => {
    const html = await t.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(html.statusCode, 200);
    assert.match(String(html.headers['content-type']), /text\/html/);
    const csp = String(html.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.doesNotMatch(csp, /upgrade-insecure-requests/, 'the docs must load over plain local HTTP');
    const assets = [...html.body.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map(
      ([, href]) => new URL(href ?? '', 'http://localhost/docs/').pathname,
    );
    assert.ok(assets.length >= 3, 'the page names its scripts and styles');
    for (const url of assets) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, `${url} loads`);
    }
  });

  it('answers no CORS preflight when CORS_ORIGINS is not set', async () => {
    const res = await preflight(t, ORIGIN);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.notEqual(res.statusCode, 204);
  });

  it('echoes a sane X-Request-Id and replaces anything else', async () => {
    const given = `trace-${uniqueId('r')}`;
    const echoed = await t.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': given },
    });
    assert.equal(echoed.headers['x-request-id'], given);
    for (const bad of ['a'.repeat(200), 'has space', '<script>']) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/health/live',
        headers: { 'x-request-id': bad },
      });
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    }
    const generated = await t.inject({ method: 'GET', url: `/api/v1/users/${uniqueId('u')}/transactions` });
    assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('refuses a very long URL, or path segment, with 414 problem+json', async () => {
    const longQuery = await t.inject({ method: 'GET', url: `/health/live?q=${'a'.repeat(5_000)}` });
    assert.equal(longQuery.statusCode, 414);
    assert.match(String(longQuery.headers['content-type']), /^application\/problem\+json/);
    assert.equal(longQuery.json().code, 'uri_too_long');
    assertSecurityHeaders(longQuery, '414');
    // refused by the router before any hook: still a problem, with the essential headers
    for (const url of [`/api/v1/transactions/${'a'.repeat(300)}`, '/api/v1/transactions/%E0%A4%A']) {
      const res = await t.inject({ method: 'GET', url });
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/, url);
      assert.ok(res.statusCode === 414 || res.statusCode === 400, url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    }
  });

  it('over a real socket: a 20 KB URL or header is refused with a 4xx problem, not a 500', async () => {
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const token = await tokenFor();
    const longUrl = await fetch(`${base}/api/v1/transactions/${'a'.repeat(20_000)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(longUrl.status, 431);
    assert.match(longUrl.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(((await longUrl.json()) as { status: number }).status, 431);
    const longHeader = await fetch(`${base}/health/live`, { headers: { 'x-padding': 'p'.repeat(20_000) } });
    assert.equal(longHeader.status, 431);
    const url5k = await fetch(`${base}/api/v1/transactions/${'a'.repeat(5_000)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(url5k.status, 414);
  });
});

describe('CORS with CORS_ORIGINS set', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp('embedded', { CORS_ORIGINS: `${ORIGIN},https://admin.fido.example` });
  });
  after(async () => {
    await t.close();
  });

  it('allows a preflight from a configured origin, with the headers the API needs', async () => {
    const res = await preflight(t, ORIGIN);
    assert.equal(res.statusCode, 204);
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    assert.match(String(res.headers['access-control-allow-methods']), /POST/);
    assert.match(String(res.headers['access-control-allow-headers']), /Authorization/i);
    assert.equal(res.headers['access-control-allow-credentials'], undefined, 'Bearer tokens, no cookies');
    // answered from CORS's own hook, and still with the security headers and a request id
    assertSecurityHeaders(res, 'preflight');
    assert.ok(res.headers['x-request-id'], 'preflight request id');
  });

  it('refuses a preflight from any other origin', async () => {
    const res = await preflight(t, 'https://evil.example');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  it('lets a configured origin read the rate limit and request id headers', async () => {
    const res = await t.inject({
      method: 'GET',
      url: `/api/v1/users/${uniqueId('u')}/transactions`,
      headers: { origin: ORIGIN },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    const exposed = String(res.headers['access-control-expose-headers']).toLowerCase();
    for (const name of ['ratelimit-remaining', 'retry-after', 'x-request-id', 'etag', 'location']) {
      assert.ok(exposed.includes(name), `${name} exposed`);
    }
  });
});

describe('hardening configuration', () => {
  it('defaults to a generous rate limit and no CORS', () => {
    const config = loadConfig({});
    assert.deepEqual(config.rateLimit, { max: 1200, windowMs: 60_000 });
    assert.deepEqual(config.corsOrigins, []);
  });

  it('reads the CORS origins list', () => {
    const config = loadConfig({ CORS_ORIGINS: `${ORIGIN},http://localhost:5173` });
    assert.deepEqual(config.corsOrigins, [ORIGIN, 'http://localhost:5173']);
  });

  it('names each bad value', () => {
    assert.throws(
      () =>
        loadConfig({
          CORS_ORIGINS: `${ORIGIN}/`, // an Origin never ends in a slash: it would never match
          RATE_LIMIT_MAX: '0',
          RATE_LIMIT_WINDOW_MS: 'soon',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems.map((p) => p.split('=')[0]).sort(), [
          'CORS_ORIGINS',
          'RATE_LIMIT_MAX',
          'RATE_LIMIT_WINDOW_MS',
        ]);
        return true;
      },
    );
  });
});
