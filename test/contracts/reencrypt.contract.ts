import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SealedItem } from '../../src/reencrypt/reencryption-store.port.ts';
import type { Storage } from '../../src/storage.port.ts';
import { aClaim, aRecord, change, creation, useStorage } from './storage.contract.ts';
import { uniqueId } from '../helpers.ts';

/** The ReencryptionStore port's contract, run against every adapter on a store of its own. */

const OLD = 'v1.old.';
const NEW = 'v1.new.';

const subjectOf = ({ subject }: SealedItem): string => {
  switch (subject.kind) {
    case 'transaction_name':
      return `name:${subject.transactionId}`;
    case 'idempotent_response':
      return `response:${subject.scope}:${subject.key}`;
    case 'webhook_secret':
      return `webhook:${subject.subscriptionId}`;
  }
};
const placeOf = (item: SealedItem): string => JSON.stringify(item.place);

export async function scanAll(storage: Storage, prefix: string, limit = 1000): Promise<SealedItem[]> {
  const items: SealedItem[] = [];
  let cursor: string | null = null;
  for (let pages = 0; ; pages += 1) {
    assert.ok(pages < 10_000, 'the scan does not end');
    const page = await storage.reencryption.scanStale(prefix, cursor, limit);
    items.push(...page.items);
    cursor = page.next;
    if (cursor === null) return items;
  }
}

export function reencryptionContract(name: string, open: () => Promise<Storage>): void {
  void describe(`Reencryption contract: ${name}`, () => {
    const store = useStorage(open);

    /** A transaction with two versions, a completed idempotency key and a webhook, all under OLD. */
    async function seed() {
      const webhook = {
        id: uniqueId('wh'),
        url: 'https://hooks.example/fido',
        eventTypes: ['alert.raised'],
        secretSealed: `${OLD}${uniqueId('s')}`,
        owner: 'client-a',
        createdAt: new Date(),
      };
      await store().webhooks.create(webhook);
      const v1 = aRecord({ fullNameSealed: `${OLD}${uniqueId('a')}` });
      await store().transactions.insert(creation(v1));
      const update = change(v1, { fullNameSealed: `${OLD}${uniqueId('b')}` });
      assert.equal(await store().transactions.replace(1, update), true);
      const now = new Date();
      const claim = aClaim(now, { transactionId: v1.id });
      await store().idempotency.claim(claim, now);
      const response = `${OLD}${uniqueId('r')}`;
      await store().idempotency.complete(claim.scope, claim.key, 201, response);
      const inFlight = aClaim(now);
      await store().idempotency.claim(inFlight, now);
      return { v1, v2: update.record, claim, response, inFlight, webhook };
    }

    void it('finds every sealed value under another key: names of every version, the head, stored responses', async () => {
      const { v1, v2, claim, response, inFlight, webhook } = await seed();
      const current = aRecord({ fullNameSealed: `${NEW}${uniqueId('c')}` });
      await store().transactions.insert(creation(current));
      const items = await scanAll(store(), NEW);
      const pairs = new Set(items.map((i) => `${subjectOf(i)}|${i.sealed}`));
      const mine = [...pairs].filter(
        (p) => p.includes(v1.id) || p.includes(claim.key) || p.includes(webhook.id),
      );
      assert.deepEqual(mine.sort(), [
        `name:${v1.id}|${v1.fullNameSealed}`,
        `name:${v1.id}|${v2.fullNameSealed}`,
        `response:${claim.scope}:${claim.key}|${response}`,
        `webhook:${webhook.id}|${webhook.secretSealed}`,
      ]);
      assert.equal(items.filter((i) => i.sealed.startsWith(NEW)).length, 0);
      assert.equal(items.filter((i) => subjectOf(i).includes(inFlight.key)).length, 0);
      assert.equal(await store().reencryption.countStale(NEW), items.length);
    });

    void it('pages through every value exactly once, one record at a time', async () => {
      await seed();
      await seed();
      const whole = (await scanAll(store(), NEW)).map(placeOf);
      const paged = (await scanAll(store(), NEW, 1)).map(placeOf);
      assert.equal(new Set(paged).size, paged.length);
      assert.deepEqual(paged.sort(), whole.sort());
    });

    void it('replaces each value, after which reads return it and the scan no longer finds it', async () => {
      const { v1, claim, webhook } = await seed();
      const mine = (await scanAll(store(), NEW)).filter(
        (i) =>
          subjectOf(i).includes(v1.id) ||
          subjectOf(i).includes(claim.key) ||
          subjectOf(i).includes(webhook.id),
      );
      const resealed = (i: SealedItem) => `${NEW}${i.sealed.slice(OLD.length)}`;
      for (const item of mine) assert.equal(await store().reencryption.replace(item, resealed(item)), true);

      const head = await store().transactions.get(v1.id);
      assert.equal(head?.fullNameSealed.startsWith(NEW), true);
      assert.equal(head.version, 2);
      const trail = await store().transactions.auditTrail(v1.id);
      assert.deepEqual(
        trail.map((e) => e.fullNameSealed.startsWith(NEW)),
        [true, true],
      );
      const replay = await store().idempotency.claim(aClaim(new Date(), { ...claim }), new Date());
      assert.equal(replay.kind, 'existing');
      assert.equal(replay.record.responseSealed?.startsWith(NEW), true);
      assert.equal((await store().webhooks.get(webhook.id))?.secretSealed.startsWith(NEW), true);
      const left = (await scanAll(store(), NEW)).filter(
        (i) => subjectOf(i).includes(v1.id) || subjectOf(i).includes(webhook.id),
      );
      assert.deepEqual(left, []);
    });

    void it('replaces nothing when the stored value is no longer the one read', async () => {
      const { v1, v2 } = await seed();
      const items = (await scanAll(store(), NEW)).filter((i) => i.place.id === v1.id);
      assert.equal(items.length, 1);
      const [headItem] = items;
      assert.ok(headItem);
      const v3 = change(v2, { fullNameSealed: `${NEW}${uniqueId('w')}` });
      assert.equal(await store().transactions.replace(2, v3), true); // a writer got in first
      assert.equal(await store().reencryption.replace(headItem, `${NEW}late`), false);
      assert.deepEqual(await store().transactions.get(v1.id), v3.record);
      const forged = { ...headItem, sealed: `${OLD}not-what-is-stored` };
      assert.equal(await store().reencryption.replace(forged, `${NEW}forged`), false);
      assert.deepEqual(await store().transactions.get(v1.id), v3.record);
    });

    void it('includes deleted transactions, whose names stay in their tombstones and history', async () => {
      const { v1, v2 } = await seed();
      const deletion = change(v2, { deletedAt: new Date(), fullNameSealed: `${OLD}${uniqueId('d')}` });
      assert.equal(await store().transactions.replace(2, deletion), true);
      const sealed = (await scanAll(store(), NEW))
        .filter((i) => subjectOf(i) === `name:${v1.id}`)
        .map((i) => i.sealed);
      assert.ok(sealed.includes(deletion.record.fullNameSealed));
      assert.equal(new Set(sealed).size, 3);
    });

    void it('refuses a cursor it did not hand out and a place that holds no sealed value', async () => {
      await assert.rejects(store().reencryption.scanStale(NEW, '{"not":"a cursor"}', 10), RangeError);
      const item: SealedItem = {
        place: { collection: 'transactions', id: uniqueId('tx'), field: 'user_id' },
        subject: { kind: 'transaction_name', transactionId: uniqueId('tx') },
        sealed: `${OLD}x`,
      };
      await assert.rejects(store().reencryption.replace(item, `${NEW}x`), RangeError);
    });
  });
}
