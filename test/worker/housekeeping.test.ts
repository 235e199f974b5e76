import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { aClaim } from '../contracts/storage.contract.ts';
import { aDelivery, aSubscription } from '../contracts/webhook-store.contract.ts';
import { startApp, type StoreKind, type TestApp } from '../helpers.ts';

const DAY_MS = 86_400_000;

for (const store of ['embedded', 'mongodb'] as const satisfies readonly StoreKind[]) {
  describe(`housekeeping (${store} store)`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(store, { WEBHOOK_RETENTION_MS: String(30 * DAY_MS) }, { worker: true });
    });
    after(() => t.close());

    it('deletes expired idempotency keys and finished deliveries past the retention, nothing else', async () => {
      const now = new Date();
      const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
      const { idempotency, webhooks } = t.deps.storage;
      const expired = aClaim(ago(2), { expiresAt: ago(1) });
      const live = aClaim(now);
      for (const claim of [expired, live])
        assert.equal((await idempotency.claim(claim, now)).kind, 'claimed');
      const sub = aSubscription();
      await webhooks.create(sub);
      const keep = [
        aDelivery(sub.id, { createdAt: ago(40) }), // pending: still being retried or due
        aDelivery(sub.id, { state: 'delivered', createdAt: ago(29), deliveredAt: ago(29) }),
      ];
      const drop = [
        aDelivery(sub.id, { state: 'delivered', createdAt: ago(31), deliveredAt: ago(31) }),
        aDelivery(sub.id, { state: 'dead', createdAt: ago(40), lastError: 'HTTP 500' }),
      ];
      await webhooks.enqueue([...keep, ...drop]);

      assert.ok(t.worker, 'the worker runs in process');
      assert.deepEqual(await t.worker.housekeep(), { idempotencyKeys: 1, webhookDeliveries: 2 });
      const left = (await webhooks.deliveries(sub.id, 10)).map((d) => d.id).sort();
      assert.deepEqual(left, keep.map((d) => d.id).sort());
      assert.equal((await idempotency.claim({ ...live, fingerprint: 'other' }, now)).kind, 'existing');
      assert.deepEqual(await t.worker.housekeep(), { idempotencyKeys: 0, webhookDeliveries: 0 });
    });
  });
}
