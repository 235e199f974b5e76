import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { eventually, requireEnv, startApp, tokenFor, uniqueId, type TestApp } from '../helpers.ts';

const LIMITED = { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '2000' };

/** A client acting for itself: its own user, its own token (its own budget). */
async function aClient(): Promise<{ user: string; token: string }> {
  const user = uniqueId('rl');
  return { user, token: await tokenFor({ sub: user, scope: 'transactions:read' }) };
}

const history = (t: TestApp, client: { user: string; token: string }) =>
  t.inject({
    method: 'GET',
    url: `/api/v1/users/${client.user}/transactions`,
    headers: { authorization: `Bearer ${client.token}` },
  });

/** A request with no valid token (so no client) from `remoteAddress`. */
const anonymous = (t: TestApp, remoteAddress: string, authorization?: string) =>
  t.app.inject({
    method: 'GET',
    url: '/api/v1/users/u-1/transactions',
    remoteAddress,
    headers: authorization === undefined ? {} : { authorization },
  });

function assertLimitHeaders(res: LightMyRequestResponse, remaining: number): void {
  assert.equal(res.headers['ratelimit-limit'], '5');
  assert.equal(res.headers['ratelimit-remaining'], String(remaining));
  const reset = Number(res.headers['ratelimit-reset']);
  assert.ok(reset >= 0 && reset <= 2, `RateLimit-Reset ${reset} within the 2 s window`);
}

describe('rate limiting per client, Redis store shared by instances', () => {
  let t: TestApp;
  let other: TestApp;
  before(async () => {
    const env = { REDIS_URL: requireEnv('REDIS_URL'), ...LIMITED };
    t = await startApp('embedded', env);
    other = await startApp('embedded', env);
  });
  after(async () => {
    await t.close();
    await other.close();
  });

  it('answers a burst over the limit with 429, Retry-After and RateLimit-*, then recovers', async () => {
    const client = await aClient();
    for (let i = 0; i < 5; i++) {
      const res = await history(t, client);
      assert.equal(res.statusCode, 200);
      assertLimitHeaders(res, 4 - i);
    }
    const limited = await history(t, client);
    assert.equal(limited.statusCode, 429);
    assert.match(String(limited.headers['content-type']), /^application\/problem\+json/);
    assert.equal(limited.json().code, 'rate_limited');
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${retryAfter}`);
    assertLimitHeaders(limited, 0);

    const recovered = await eventually(async () => {
      const res = await history(t, client);
      return res.statusCode === 200 ? res : undefined;
    }, 10_000);
    assertLimitHeaders(recovered, 4);
  });

  it('gives two clients independent budgets', async () => {
    const [a, b] = [await aClient(), await aClient()];
    for (let i = 0; i < 5; i++) assert.equal((await history(t, a)).statusCode, 200);
    assert.equal((await history(t, a)).statusCode, 429);
    const fresh = await history(t, b);
    assert.equal(fresh.statusCode, 200);
    assertLimitHeaders(fresh, 4);
  });

  it('counts one client across two app instances sharing Redis', async () => {
    const client = await aClient();
    for (let i = 0; i < 3; i++) assert.equal((await history(t, client)).statusCode, 200);
    assertLimitHeaders(await history(other, client), 1);
    assertLimitHeaders(await history(other, client), 0);
    assert.equal((await history(t, client)).statusCode, 429);
  });

  it('counts requests refused before authentication against their IP', async () => {
    // a random address per run: the test bed's Redis keeps counters for the window
    const ip = `10.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.7`;
    for (let i = 0; i < 5; i++) {
      const res = await anonymous(t, ip, i % 2 === 0 ? 'Bearer not.a.token' : undefined);
      assert.equal(res.statusCode, 401);
      assertLimitHeaders(res, 4 - i);
    }
    const limited = await anonymous(t, ip);
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  });
});

describe('rate limiting fails open when Redis cannot answer', () => {
  /** Serves a few requests with a limit of 1; each must be answered 200, fast, without limit. */
  async function assertServesUnlimited(redisUrl: string): Promise<void> {
    const t = await startApp('embedded', { REDIS_URL: redisUrl, RATE_LIMIT_MAX: '1' });
    try {
      const client = await aClient();
      for (let i = 0; i < 4; i++) {
        const started = Date.now();
        const res = await history(t, client);
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['ratelimit-limit'], undefined, 'no counter, no claim about it');
        // a deadline, not a benchmark: a Redis outage must not hang requests
        assert.ok(Date.now() - started < 1_000, `answered in ${Date.now() - started} ms`);
      }
    } finally {
      await t.close();
    }
  }

  it('serves requests when nothing listens at REDIS_URL', async () => {
    await assertServesUnlimited('redis://127.0.0.1:1');
  });

  it('serves requests when the server at REDIS_URL accepts connections but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    assert.ok(address !== null && typeof address === 'object');
    try {
      await assertServesUnlimited(`redis://127.0.0.1:${address.port}`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('rate limiting with the in-memory store (no REDIS_URL)', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp('embedded', LIMITED);
  });
  after(async () => {
    await t.close();
  });

  it('limits a client and reports the same headers', async () => {
    const client = await aClient();
    for (let i = 0; i < 5; i++) assertLimitHeaders(await history(t, client), 4 - i);
    const limited = await history(t, client);
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  });

  it('limits requests without a token by IP', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await anonymous(t, '192.0.2.10');
      assert.equal(res.statusCode, 401);
      assertLimitHeaders(res, 4 - i);
    }
    assert.equal((await anonymous(t, '192.0.2.10')).statusCode, 429);
    assert.equal((await anonymous(t, '192.0.2.11')).statusCode, 401, 'another IP has its own budget');
  });
});
