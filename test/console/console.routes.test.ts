import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { createConsoleLogin } from '../../src/console/console-login.ts';
import { CONSOLE_CSP, CONSOLE_DIR } from '../../src/console/console.routes.ts';
import { requireEnv, startApp, TEST_ENCRYPTION_KEYS, uniqueId, type TestApp } from '../helpers.ts';

describe('GET /console', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp('embedded', { RATE_LIMIT_MAX: '2' });
  });
  after(async () => {
    await t.close();
  });

  it('serves the page and every file it names under the console CSP, with no token', async () => {
    for (const url of ['/console', '/console/']) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.headers['content-security-policy'], CONSOLE_CSP);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
    }
    const html = (await t.app.inject({ method: 'GET', url: '/console' })).body;
    const assets = [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map(([, url]) => url ?? '');
    assert.deepEqual(assets.sort(), ['/console/console.css', '/console/js/main.js']);
    const modules = readdirSync(join(CONSOLE_DIR, 'js')).map((name) => `/console/js/${name}`);
    for (const url of [...assets, ...modules]) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), url.endsWith('.css') ? /^text\/css/ : /javascript/);
      assert.equal(res.headers['content-security-policy'], CONSOLE_CSP, url);
    }
  });

  it('is outside the API: no rate limit counts its files, and the API keeps its own policy', async () => {
    for (let i = 0; i < 5; i += 1) {
      const res = await t.app.inject({ method: 'GET', url: '/console/js/api.js' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['ratelimit-limit'], undefined);
    }
    const api = await t.app.inject({ method: 'GET', url: `/api/v1/users/${uniqueId('u')}/transactions` });
    assert.equal(api.statusCode, 401);
    assert.match(String(api.headers['content-security-policy']), /^default-src 'none'/);
  });

  it('answers only GET and HEAD, and nothing outside its folder', async () => {
    const post = await t.app.inject({ method: 'POST', url: '/console/js/main.js' });
    assert.equal(post.statusCode, 405);
    for (const url of [
      '/console/../package.json',
      '/console/%2e%2e/package.json',
      '/console/js/../../console.routes.ts',
      '/console/nope.js',
    ]) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/, url);
    }
  });

  it('ships nothing the strict CSP would have to allow: no inline script or style, no innerHTML', () => {
    const html = readFileSync(join(CONSOLE_DIR, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'inline <script>');
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'inline style or handler');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing loaded from elsewhere');
    for (const name of readdirSync(join(CONSOLE_DIR, 'js'))) {
      const source = readFileSync(join(CONSOLE_DIR, 'js', name), 'utf8');
      assert.doesNotMatch(
        source,
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/,
        name,
      );
      assert.doesNotMatch(source, /fetch\(\s*['"`]https?:/, `${name} calls only this origin`);
    }
  });
});

describe('the console sign-in code', () => {
  it('on the embedded default, exchanges the code in DATA_DIR for a 15-minute service token', async () => {
    // no JWT_SECRET: the service generates its own, as `npm start` on a fresh clone does
    const t = await startApp('embedded', { JWT_SECRET: '' });
    try {
      const offer = await t.app.inject({ method: 'GET', url: '/console/login' });
      assert.equal(offer.statusCode, 200);
      assert.deepEqual(offer.json(), { available: true, expires_in: 900 });

      const wrong = await t.app.inject({ method: 'POST', url: '/console/login', payload: { code: 'guess' } });
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.json().code, 'invalid_sign_in_code');

      const code = readFileSync(join(t.dataDir, 'console-code'), 'utf8').trim();
      const right = await t.app.inject({ method: 'POST', url: '/console/login', payload: { code } });
      assert.equal(right.statusCode, 200);
      assert.equal(right.headers['cache-control'], 'no-store');
      const { access_token: token, expires_in: ttl, scope } = right.json();
      assert.deepEqual([ttl, scope], [900, 'service']);
      const claims = JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString());
      assert.equal(claims.exp - claims.iat, 900);
      assert.equal(claims.sub, 'console');

      const user = uniqueId('u');
      const history = await t.app.inject({
        method: 'GET',
        url: `/api/v1/users/${user}/transactions`,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(history.statusCode, 200, 'the minted token is accepted by the API');
    } finally {
      await t.close();
    }
  });

  it('does not exist when tokens come from a real issuer (JWT_SECRET set)', async () => {
    const t = await startApp('embedded');
    try {
      for (const method of ['GET', 'POST'] as const) {
        const res = await t.app.inject({ method, url: '/console/login', payload: { code: 'x' } });
        assert.equal(res.statusCode, 404, method);
      }
      assert.equal((await t.app.inject({ method: 'GET', url: '/console' })).statusCode, 200);
    } finally {
      await t.close();
    }
  });

  it('cannot be turned on with MONGODB_URL: production always has a real issuer', () => {
    const config = loadConfig({
      MONGODB_URL: requireEnv('MONGODB_URL'),
      ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
      DATA_DIR: join('/nonexistent', uniqueId('d')),
    });
    assert.equal(config.auth.secret, undefined);
    assert.equal(createConsoleLogin(config), null);
  });
});
