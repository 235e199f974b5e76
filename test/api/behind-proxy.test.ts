import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, type TestApp } from '../helpers.ts';

/**
 * Behind the load balancer every connection comes from it: with TRUST_PROXY_HOPS=1 a client is
 * known by the address the balancer saw (the last X-Forwarded-For entry), so the per-IP limit of
 * requests without a valid token applies per client, and what a client writes into the header
 * itself changes nothing. Without it the header is ignored.
 */

const LB = '10.0.0.2';
const LIMITED = { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '60000' };

const anonymous = (t: TestApp, forwardedFor: string) =>
  t.app.inject({
    method: 'GET',
    url: '/api/v1/users/u-1/transactions',
    remoteAddress: LB,
    headers: { 'x-forwarded-for': forwardedFor },
  });

describe('client addresses behind a load balancer', () => {
  let proxied: TestApp;
  let direct: TestApp;
  before(async () => {
    proxied = await startApp('embedded', { ...LIMITED, TRUST_PROXY_HOPS: '1' });
    direct = await startApp('embedded', LIMITED);
  });
  after(async () => {
    await proxied.close();
    await direct.close();
  });

  it('limits each client by the address the balancer saw, spoofed entries or not', async () => {
    const statuses = [];
    for (const header of ['203.0.113.7', '198.51.100.1, 203.0.113.7', '203.0.113.99, 203.0.113.7']) {
      statuses.push((await anonymous(proxied, header)).statusCode);
    }
    assert.deepEqual(statuses, [401, 401, 429]);
    assert.equal(
      (await anonymous(proxied, '203.0.113.8')).statusCode,
      401,
      'another client has its own budget',
    );
  });

  it('ignores X-Forwarded-For unless told how many proxies to trust', async () => {
    const statuses = [];
    for (const header of ['203.0.113.7', '203.0.113.8', '203.0.113.9']) {
      statuses.push((await anonymous(direct, header)).statusCode);
    }
    assert.deepEqual(statuses, [401, 401, 429]);
  });
});
