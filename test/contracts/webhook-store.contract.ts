import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Storage } from '../../src/storage.port.ts';
import type { WebhookDelivery, WebhookSubscription } from '../../src/webhooks/webhook-store.port.ts';
import { useStorage } from './storage.contract.ts';
import { uniqueId } from '../helpers.ts';

/** The WebhookStore contract: every adapter runs this same suite. */

const T0 = new Date('2024-10-05T09:30:15.678Z');
const at = (ms: number, base = T0): Date => new Date(base.getTime() + ms);

export function aSubscription(overrides: Partial<WebhookSubscription> = {}): WebhookSubscription {
  return {
    id: uniqueId('wh'),
    url: 'https://hooks.example.com/fido',
    eventTypes: ['transaction.created'],
    secretSealed: 'v1.k1.iv.secret.tag',
    owner: uniqueId('client'),
    createdAt: T0,
    ...overrides,
  };
}

export function aDelivery(subscriptionId: string, overrides: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    id: uniqueId('whd'),
    subscriptionId,
    eventId: uniqueId('ev'),
    eventType: 'transaction.created',
    payload: '{"event_id":"e","type":"transaction.created"}',
    state: 'pending',
    attempts: 0,
    createdAt: T0,
    nextAttemptAt: T0,
    lastAttemptAt: null,
    lastError: null,
    deliveredAt: null,
    ...overrides,
  };
}

const ids = (items: readonly { id: string }[]): string[] => items.map((i) => i.id);

export function webhookStoreContract(name: string, open: () => Promise<Storage>): void {
  void describe(`WebhookStore contract: ${name}`, () => {
    const store = useStorage(open);
    const webhooks = () => store().webhooks;

    void it('creates, reads and lists subscriptions by owner (oldest first) and for everyone', async () => {
      const owner = uniqueId('client');
      const second = aSubscription({
        owner,
        createdAt: at(1000),
        eventTypes: ['alert.raised', 'transaction.*'],
      });
      const first = aSubscription({ owner });
      const other = aSubscription();
      for (const s of [second, first, other]) await webhooks().create(s);
      assert.deepEqual(await webhooks().get(first.id), first);
      assert.deepEqual(await webhooks().get(second.id), second);
      assert.equal(await webhooks().get(uniqueId('wh')), null);
      assert.deepEqual(await webhooks().list(owner), [first, second]);
      const everyone = ids(await webhooks().list(null));
      for (const s of [first, second, other]) assert.ok(everyone.includes(s.id), s.id);
      assert.deepEqual(await webhooks().list(uniqueId('nobody')), []);
    });

    void it('matches an exact event type and transaction.* for the transaction events only', async () => {
      const exact = aSubscription({ eventTypes: ['transaction.updated'] });
      const wildcard = aSubscription({ eventTypes: ['transaction.*'], createdAt: at(1) });
      const alerts = aSubscription({
        eventTypes: ['alert.raised', 'credit_score.changed'],
        createdAt: at(2),
      });
      for (const s of [exact, wildcard, alerts]) await webhooks().create(s);
      const mine = new Set(ids([exact, wildcard, alerts]));
      const matching = async (type: string) =>
        ids(await webhooks().matching(type)).filter((id) => mine.has(id));
      assert.deepEqual(await matching('transaction.updated'), [exact.id, wildcard.id]);
      assert.deepEqual(await matching('transaction.deleted'), [wildcard.id]);
      assert.deepEqual(await matching('alert.raised'), [alerts.id]);
      assert.deepEqual(await matching('credit_score.changed'), [alerts.id]);
      assert.deepEqual(await matching('unknown.event'), []);
    });

    void it('enqueues each delivery id once: a redelivered event leaves the first one as it is', async () => {
      const sub = aSubscription();
      await webhooks().create(sub);
      const delivery = aDelivery(sub.id);
      await webhooks().enqueue([delivery]);
      const attempted = { ...delivery, attempts: 1, lastError: 'HTTP 503', lastAttemptAt: at(5) };
      await webhooks().update(attempted);
      const another = aDelivery(sub.id, { createdAt: at(10) });
      await webhooks().enqueue([{ ...delivery, payload: '{"changed":true}' }, another, another]);
      await webhooks().enqueue([]);
      assert.deepEqual(await webhooks().deliveries(sub.id, 10), [another, attempted]);
    });

    void it('round-trips every field of an attempt outcome', async () => {
      const sub = aSubscription();
      await webhooks().create(sub);
      const delivery = aDelivery(sub.id);
      await webhooks().enqueue([delivery]);
      const delivered: WebhookDelivery = {
        ...delivery,
        state: 'delivered',
        attempts: 3,
        nextAttemptAt: at(9000),
        lastAttemptAt: at(8000),
        lastError: 'HTTP 500: oops',
        deliveredAt: at(8000),
      };
      await webhooks().update(delivered);
      assert.deepEqual(await webhooks().deliveries(sub.id, 10), [delivered]);
      const dead: WebhookDelivery = {
        ...delivered,
        state: 'dead',
        deliveredAt: null,
        lastError: 'timed out',
      };
      await webhooks().update(dead);
      assert.deepEqual(await webhooks().deliveries(sub.id, 10), [dead]);
    });

    void it('keeps the trace context a delivery was queued with through its attempts', async () => {
      const sub = aSubscription();
      await webhooks().create(sub);
      const traceContext = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
      const traced = aDelivery(sub.id, { traceContext, createdAt: at(1) });
      const untraced = aDelivery(sub.id);
      await webhooks().enqueue([traced, untraced]);
      const retried: WebhookDelivery = {
        ...traced,
        attempts: 1,
        lastError: 'HTTP 503',
        lastAttemptAt: at(5),
      };
      await webhooks().update(retried);
      assert.deepEqual(await webhooks().deliveries(sub.id, 10), [retried, untraced]);
      assert.deepEqual(
        (await webhooks().due(at(10), 10)).find((d) => d.id === traced.id)?.traceContext,
        traceContext,
      );
    });

    void it('lists a subscription’s deliveries newest first, at most limit', async () => {
      const sub = aSubscription();
      await webhooks().create(sub);
      const made = [0, 3, 1, 2].map((i) => aDelivery(sub.id, { createdAt: at(i * 1000) }));
      await webhooks().enqueue(made);
      await webhooks().enqueue([aDelivery(aSubscription().id)]);
      const newest = [...made].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
      assert.deepEqual(await webhooks().deliveries(sub.id, 10), newest);
      assert.deepEqual(await webhooks().deliveries(sub.id, 2), newest.slice(0, 2));
      assert.deepEqual(await webhooks().deliveries(uniqueId('wh'), 10), []);
    });

    void it('hands out pending deliveries due by now, earliest first, at most limit, leaving out excluded subscriptions', async () => {
      // a time before every other test's deliveries, so those cannot be due here
      const past = new Date('1990-01-01T00:00:00.000Z');
      const [a, b] = [aSubscription(), aSubscription()];
      const dueLater = aDelivery(a.id, { nextAttemptAt: at(3000, past) });
      const dueFirst = aDelivery(b.id, { nextAttemptAt: at(1000, past) });
      const dueSecond = aDelivery(a.id, { nextAttemptAt: at(2000, past) });
      const notYet = aDelivery(a.id, { nextAttemptAt: at(60_000, past) });
      const delivered = aDelivery(a.id, { nextAttemptAt: at(500, past), state: 'delivered' });
      const dead = aDelivery(b.id, { nextAttemptAt: at(600, past), state: 'dead' });
      await webhooks().enqueue([dueLater, dueFirst, dueSecond, notYet, delivered, dead]);
      const now = at(3000, past);
      assert.deepEqual(await webhooks().due(now, 10), [dueFirst, dueSecond, dueLater]);
      assert.deepEqual(await webhooks().due(now, 2), [dueFirst, dueSecond]);
      assert.deepEqual(await webhooks().due(now, 10, [b.id]), [dueSecond, dueLater]);
      assert.deepEqual(await webhooks().due(now, 10, [a.id, b.id]), []);
      assert.deepEqual(await webhooks().due(at(999, past), 10), []);
      await webhooks().update({ ...dueFirst, state: 'delivered', deliveredAt: now });
      assert.deepEqual(await webhooks().due(now, 10), [dueSecond, dueLater]);
    });

    void it('purges delivered and dead deliveries created before a time, at most limit; never a pending one', async () => {
      const sub = aSubscription();
      await webhooks().create(sub);
      // created in 2001, before every other test's deliveries, so the counts are exact
      const old = new Date('2001-01-01T00:00:00.000Z');
      const cutoff = at(1000, old);
      const delivered = aDelivery(sub.id, { state: 'delivered', createdAt: old, deliveredAt: old });
      const dead = aDelivery(sub.id, { state: 'dead', createdAt: old, lastError: '500' });
      const pending = aDelivery(sub.id, { createdAt: old });
      const recent = aDelivery(sub.id, { state: 'delivered', createdAt: cutoff, deliveredAt: cutoff });
      await webhooks().enqueue([delivered, dead, pending, recent]);
      assert.equal(await webhooks().purgeFinished(cutoff, 1), 1);
      assert.equal(await webhooks().purgeFinished(cutoff, 10), 1);
      assert.equal(await webhooks().purgeFinished(cutoff, 10), 0);
      assert.deepEqual(ids(await webhooks().deliveries(sub.id, 10)).sort(), [pending.id, recent.id].sort());
    });

    void it('deletes a subscription with its deliveries; true once, then false', async () => {
      const sub = aSubscription();
      const kept = aSubscription({ owner: sub.owner });
      for (const s of [sub, kept]) await webhooks().create(s);
      // later than the due test's times, which must stay the earliest pending ones of the store
      const past = new Date('1995-01-01T00:00:00.000Z');
      const pending = aDelivery(sub.id, { nextAttemptAt: past });
      const keptDelivery = aDelivery(kept.id, { nextAttemptAt: at(1, past) });
      await webhooks().enqueue([pending, keptDelivery]);
      assert.equal(await webhooks().delete(sub.id), true);
      assert.equal(await webhooks().delete(sub.id), false);
      assert.equal(await webhooks().get(sub.id), null);
      assert.deepEqual(await webhooks().list(sub.owner), [kept]);
      assert.deepEqual(await webhooks().deliveries(sub.id, 10), []);
      const mine = new Set([pending.id, keptDelivery.id]);
      const due = (await webhooks().due(at(1, past), 1000)).filter((d) => mine.has(d.id));
      assert.deepEqual(due, [keptDelivery]);
      // an outcome recorded after the deletion does not bring the delivery back
      await webhooks().update({ ...pending, attempts: 1 });
      assert.deepEqual(await webhooks().deliveries(sub.id, 10), []);
    });
  });
}
