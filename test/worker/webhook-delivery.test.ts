import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { verify } from '../../src/webhooks/webhook-signature.ts';
import { eventually, newTransaction, requireEnv, startApp, uniqueId, type TestApp } from '../helpers.ts';
import { startReceiver, type Behaviour, type Receiver } from './webhook-receiver.ts';

/**
 * Deliveries end to end: the app with its worker, a real receiver on loopback. Small backoffs and
 * a short retry period keep the retry paths quick; a long timeout makes a hanging receiver hang
 * for the whole of its test.
 */
const ENV = {
  WEBHOOK_BACKOFF_BASE_MS: '50',
  WEBHOOK_BACKOFF_MAX_MS: '200',
  WEBHOOK_RETRY_FOR_MS: '4000',
  WEBHOOK_TIMEOUT_MS: '30000',
  WEBHOOK_POLL_MS: '20',
  // three slots: a hanging receiver may take two (its cap), a healthy one still has one
  WEBHOOK_CONCURRENCY: '3',
};

interface Delivery {
  id: string;
  event_id: string;
  state: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
}

for (const setup of [
  { name: 'MongoDB and Kafka', store: 'mongodb', bus: 'kafka' },
  { name: 'the embedded default', store: 'embedded', bus: 'embedded' },
] as const) {
  describe(`webhook deliveries on ${setup.name}`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(setup.store, ENV, { worker: true, bus: setup.bus });
    });
    after(async () => {
      if (setup.store === 'mongodb') {
        const client = await MongoClient.connect(requireEnv('MONGODB_URL'));
        await client.db(t.database).dropDatabase();
        await client.close();
      }
      await t.close();
    });

    /** A receiver subscribed to the transaction events; both go away when `use` is done. */
    async function withSubscriber<T>(
      behaviours: Behaviour[],
      use: (subs: { receiver: Receiver; id: string; secret: string }[]) => Promise<T>,
    ): Promise<T> {
      const subs: { receiver: Receiver; id: string; secret: string }[] = [];
      try {
        for (const behaviour of behaviours) {
          const secret = `whsec_${uniqueId('secret')}-0123456789`;
          const receiver = await startReceiver(secret, behaviour);
          const res = await t.inject({
            method: 'POST',
            url: '/api/v1/webhooks',
            payload: { url: receiver.url, event_types: ['transaction.*'], secret },
          });
          assert.equal(res.statusCode, 201, res.body);
          subs.push({ receiver, id: res.json().id as string, secret });
        }
        return await use(subs);
      } finally {
        for (const { id, receiver } of subs) {
          await t.inject({ method: 'DELETE', url: `/api/v1/webhooks/${id}` });
          await receiver.close();
        }
      }
    }
    const createTransactions = async (count: number): Promise<string[]> => {
      const user = uniqueId('u');
      const ids: string[] = [];
      for (let i = 0; i < count; i += 1) {
        const res = await t.inject({
          method: 'POST',
          url: '/api/v1/transactions',
          payload: newTransaction(user),
        });
        assert.equal(res.statusCode, 201, res.body);
        ids.push(res.json().id as string);
      }
      return ids;
    };
    /** Polls until the receiver took `count` distinct deliveries. */
    const receivedAll = (receiver: Receiver, count: number) =>
      eventually(() => Promise.resolve(receiver.deliveredIds().size >= count ? true : undefined), 30_000);
    const deliveries = async (id: string): Promise<Delivery[]> => {
      const res = await t.inject({ method: 'GET', url: `/api/v1/webhooks/${id}/deliveries` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().data as Delivery[];
    };
    /** The deliveries once all are recorded delivered (a moment after the receiver answered 200). */
    const recordedDelivered = (id: string) =>
      eventually(async () => {
        const all = await deliveries(id);
        return all.every((d) => d.state === 'delivered') ? all : undefined;
      });

    it('signs every delivery so the receiver verifies it; a tampered body, an old timestamp or another secret fail', async () => {
      await withSubscriber([() => 200], async ([sub]) => {
        assert.ok(sub);
        const transactionIds = await createTransactions(2);
        await receivedAll(sub.receiver, 2);
        const [first] = sub.receiver.received;
        assert.ok(first);
        assert.ok(sub.receiver.received.every((r) => r.verified));
        assert.equal(first.headers['content-type'], 'application/json');
        const event = JSON.parse(first.body) as { type: string; transaction_id: string; event_id: string };
        assert.equal(event.type, 'transaction.created');
        assert.ok(transactionIds.includes(event.transaction_id));
        assert.equal(first.body.includes('Ama Mensah'), false, 'a delivery never carries the name');

        const tampered = first.body.replace('475.66', '975.66');
        assert.notEqual(tampered, first.body);
        assert.deepEqual(verify(sub.secret, first.headers, tampered), {
          ok: false,
          reason: 'no matching signature',
        });
        const later = new Date(Date.now() + 10 * 60_000);
        assert.equal(verify(sub.secret, first.headers, first.body, { now: later }).ok, false);
        assert.equal(verify(`${sub.secret}x`, first.headers, first.body).ok, false);

        const listed = await recordedDelivered(sub.id);
        assert.deepEqual(
          new Set(listed.map((d) => d.id)),
          sub.receiver.deliveredIds(),
          'the Webhook-Id is the delivery id',
        );
        assert.ok(listed.every((d) => d.next_attempt_at === null));
      });
    });

    it('a receiver down, then up, receives every event, each under one Webhook-Id', async () => {
      // 503 for its first five requests, then 200
      await withSubscriber([(n) => (n < 5 ? 503 : 200)], async ([sub]) => {
        assert.ok(sub);
        const ids = await createTransactions(3);
        await receivedAll(sub.receiver, 3);
        const bodiesById = new Map<string, Set<string>>();
        for (const r of sub.receiver.received) {
          assert.ok(r.verified, 'every attempt is signed');
          bodiesById.set(r.webhookId, (bodiesById.get(r.webhookId) ?? new Set()).add(r.body));
        }
        // retries repeat the same id with the same body; distinct ids are distinct events
        assert.equal(bodiesById.size, 3);
        assert.ok([...bodiesById.values()].every((bodies) => bodies.size === 1));
        const events = [...bodiesById.values()].map(
          (b) => JSON.parse([...b][0] ?? '') as { transaction_id: string },
        );
        assert.deepEqual(events.map((e) => e.transaction_id).sort(), [...ids].sort());
        const listed = await recordedDelivered(sub.id);
        assert.ok(listed.some((d) => d.attempts > 1 && d.last_error?.includes('503') === true));
      });
    });

    it('a receiver that always fails ends dead-lettered with its last error, visible in the deliveries', async () => {
      await withSubscriber([() => 500], async ([sub]) => {
        assert.ok(sub);
        await createTransactions(1);
        const [dead] = await eventually(async () => {
          const all = await deliveries(sub.id);
          return all.length === 1 && all[0]?.state === 'dead' ? all : undefined;
        }, 30_000);
        assert.ok(dead);
        assert.match(dead.last_error ?? '', /^HTTP 500: receiver says no/);
        assert.ok(dead.attempts >= 2, `attempts ${dead.attempts}`);
        assert.equal(dead.next_attempt_at, null);
        assert.equal(sub.receiver.received.length, dead.attempts);
        assert.deepEqual(sub.receiver.deliveredIds(), new Set());
        assert.ok(sub.receiver.received.every((r) => r.webhookId === dead.id && r.verified));
      });
    });

    it('a receiver that never answers does not hold up deliveries to a healthy one', async () => {
      await withSubscriber([() => 'hang', () => 200], async ([hanging, healthy]) => {
        assert.ok(hanging && healthy);
        await createTransactions(4);
        await receivedAll(healthy.receiver, 4);
        // all while the hanging receiver still holds its first attempts open
        assert.ok(hanging.receiver.open() >= 1, 'the slow receiver is still hanging');
        assert.ok(hanging.receiver.maxOpen() <= 2, `held ${hanging.receiver.maxOpen()} at once`);
        const stuck = await deliveries(hanging.id);
        assert.equal(stuck.length, 4);
        assert.ok(stuck.every((d) => d.state === 'pending' && d.attempts === 0));
      });
    });
  });
}
