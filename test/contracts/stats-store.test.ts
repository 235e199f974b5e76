import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contractStores } from './contract-stores.ts';
import { statsStoreContract } from './stats-store.contract.ts';
import { aRecord, creation, useStorage } from './storage.contract.ts';

/** The StatsStore contract on every adapter, each on a store of its own. */

const { openEmbedded, openMongo } = await contractStores('stats');

statsStoreContract('embedded', openEmbedded);

void describe('MongoDB stats', () => {
  statsStoreContract('mongodb', openMongo);

  void describe('stale markers', () => {
    const store = useStorage(openMongo);

    // On MongoDB the unpublished markers are the outbox: the reconciler clearing one as stale
    // would lose its event, so only the relay's publishing hands a marker over. (The embedded
    // store keeps its outbox in a table of its own and returns unpublished markers too.)
    void it('never gives an unpublished marker as stale, however old', async () => {
      const written = new Date('1972-06-01T00:00:00.000Z');
      const record = aRecord({ createdAt: written, updatedAt: written });
      await store().transactions.insert(creation(record));
      const staleIds = async () =>
        (await store().stats.stalePending(new Date('1973-01-01T00:00:00.000Z'), 10_000)).map(
          (m) => m.transactionId,
        );
      assert.ok(!(await staleIds()).includes(record.id));
      assert.equal(await store().stats.hasPending(record.userId), true);
      const entries = await store().outbox.pending(10_000);
      const mine = entries
        .filter((e) => 'event' in e && e.event.transactionId === record.id)
        .map((e) => e.id);
      assert.equal(mine.length, 1);
      await store().outbox.markPublished(mine, new Date());
      assert.ok((await staleIds()).includes(record.id));
    });
  });
});
