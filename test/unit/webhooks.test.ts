import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { WebhookDelivery } from '../../src/webhooks/webhook-store.port.ts';
import { afterAttempt, type RetryPolicy } from '../../src/webhooks/webhook-attempt.ts';
import { deliveryId } from '../../src/webhooks/webhook-fanout.ts';
import { sign, verify } from '../../src/webhooks/webhook-signature.ts';

const SECRET = 'whsec_test-secret-of-enough-length';
const NOW = new Date('2024-10-05T10:00:00.000Z');
const T = Math.floor(NOW.getTime() / 1000);
const BODY = '{"event_id":"e1","type":"transaction.created"}';
const headersFor = (signature: string, timestamp = T) => ({
  'Webhook-Id': 'whd_1',
  'Webhook-Timestamp': String(timestamp),
  'Webhook-Signature': signature,
});

describe('webhook signatures', () => {
  it('signs "<id>.<timestamp>.<body>" with HMAC-SHA256 under the secret, as v1,<base64>', () => {
    const mac = createHmac('sha256', SECRET).update(`whd_1.${T}.${BODY}`).digest('base64');
    assert.equal(sign(SECRET, 'whd_1', T, BODY), `v1,${mac}`);
  });

  it('verifies its own signature, with headers in any case, among several (secret rotation)', () => {
    const good = sign(SECRET, 'whd_1', T, BODY);
    assert.deepEqual(verify(SECRET, headersFor(good), BODY, { now: NOW }), { ok: true });
    const rotating = `${sign('whsec_the-old-secret-0123456789', 'whd_1', T, BODY)} ${good}`;
    assert.equal(verify(SECRET, headersFor(rotating), BODY, { now: NOW }).ok, true);
  });

  it('refuses a changed body, id or secret, a stale or future timestamp, missing headers', () => {
    const good = sign(SECRET, 'whd_1', T, BODY);
    const refused = (headers: Record<string, string>, body = BODY, now = NOW) =>
      !verify(SECRET, headers, body, { now }).ok;
    assert.ok(refused(headersFor(good), BODY.replace('e1', 'e2')));
    assert.ok(refused({ ...headersFor(good), 'Webhook-Id': 'whd_2' }));
    assert.ok(refused(headersFor(sign(`${SECRET}x`, 'whd_1', T, BODY))));
    assert.ok(refused(headersFor(good), BODY, new Date(NOW.getTime() + 301_000)));
    assert.ok(refused(headersFor(sign(SECRET, 'whd_1', T + 301, BODY), T + 301)));
    assert.ok(refused(headersFor(good.replace('v1,', 'v2,'))));
    assert.ok(refused({ 'Webhook-Id': 'whd_1', 'Webhook-Signature': good }));
    assert.equal(verify(SECRET, headersFor(good), BODY, { now: new Date(NOW.getTime() + 299_000) }).ok, true);
  });
});

describe('webhook retries', () => {
  const policy: RetryPolicy = {
    timeoutMs: 5000,
    retryForMs: 90_000_000,
    baseBackoffMs: 1000,
    maxBackoffMs: 3_600_000,
  };
  const pending: WebhookDelivery = {
    id: deliveryId('wh_1', 'e1'),
    subscriptionId: 'wh_1',
    eventId: 'e1',
    eventType: 'transaction.created',
    payload: BODY,
    state: 'pending',
    attempts: 0,
    createdAt: NOW,
    nextAttemptAt: NOW,
    lastAttemptAt: null,
    lastError: null,
    deliveredAt: null,
  };
  const failed = { ok: false, error: 'HTTP 503' } as const;
  const delayAfter = (attempts: number, random: number) => {
    const next = afterAttempt({ ...pending, attempts }, failed, NOW, policy, () => random);
    return next.nextAttemptAt.getTime() - NOW.getTime();
  };

  it('doubles the wait per attempt up to the cap, jittered to between half and all of it', () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((n) => delayAfter(n, 0.999_999)),
      [1000, 2000, 4000, 8000],
    );
    assert.equal(delayAfter(0, 0), 500);
    const capped = delayAfter(30, 0.999_999);
    assert.ok(capped > 3_599_990 && capped <= 3_600_000, `capped at ${capped}`);
    assert.equal(delayAfter(5000, 0), 1_800_000);
  });

  it('records the outcome: delivered, or pending with the error, or dead once the retry period is over', () => {
    const later = new Date(NOW.getTime() + 60_000);
    assert.deepEqual(afterAttempt(pending, { ok: true }, later, policy), {
      ...pending,
      state: 'delivered',
      attempts: 1,
      lastAttemptAt: later,
      deliveredAt: later,
    });
    const retried = afterAttempt(pending, failed, later, policy);
    assert.equal(retried.state, 'pending');
    assert.equal(retried.lastError, 'HTTP 503');
    const end = new Date(NOW.getTime() + policy.retryForMs);
    assert.equal(afterAttempt(pending, failed, new Date(end.getTime() - 1), policy).state, 'pending');
    assert.deepEqual(afterAttempt({ ...pending, attempts: 40 }, failed, end, policy), {
      ...pending,
      state: 'dead',
      attempts: 41,
      lastAttemptAt: end,
      lastError: 'HTTP 503',
    });
  });

  it('names a delivery by (subscription, event): stable, distinct, whd_ and 26 URL-safe characters', () => {
    assert.equal(deliveryId('wh_1', 'e1'), deliveryId('wh_1', 'e1'));
    assert.notEqual(deliveryId('wh_1', 'e1'), deliveryId('wh_2', 'e1'));
    assert.match(deliveryId('wh_1', 'e1'), /^whd_[A-Za-z0-9_-]{26}$/);
  });
});
