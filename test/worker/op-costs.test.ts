import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measureOperationCosts, type OperationCosts } from '../../scripts/pipeline/op-costs.ts';
import { requireEnv } from '../helpers.ts';

/**
 * What a create, the relay and the projector cost the store is a number of operations per event
 * that must not depend on how much the store already holds (an operation per stored row would
 * make the service slow down as it fills). Counted with scripts/pipeline/op-costs.ts on each
 * store, after seeding events of other users: 1,000, then 10,000 (FerretDB, which scans whole
 * collections, is slow to query at 10,000, but the counts are what is compared).
 */
const SIZES = [1_000, 10_000] as const;
const ATTEMPTS = 3;

/**
 * The counts of a run whose events were relayed in one batch and projected in one: a batch's
 * reads are per user, so two runs compare equal only when batched alike, and how the consumer's
 * fetches split the events depends on timing (usually one batch; measured again otherwise).
 */
async function inOneBatch(store: 'embedded' | 'mongodb', stored: number): Promise<OperationCosts> {
  let last: OperationCosts | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    last = await measureOperationCosts({
      store,
      stored,
      creates: 12,
      users: 3,
      mongodbUrl: requireEnv('MONGODB_URL'),
      kafkaBrokers: requireEnv('KAFKA_BROKERS'),
    });
    if (last.relay.batches === 1 && last.projector.batches === 1) return last;
  }
  assert.fail(`not relayed and projected in one batch in ${ATTEMPTS} runs: ${JSON.stringify(last)}`);
}

for (const store of ['embedded', 'mongodb'] as const) {
  describe(`store operations per event on the ${store} store`, () => {
    it(`are the same with ${SIZES[0].toLocaleString('en-US')} and ${SIZES[1].toLocaleString('en-US')} events stored`, async () => {
      const measured: OperationCosts[] = [];
      for (const stored of SIZES) measured.push(await inOneBatch(store, stored));
      const [small, large] = measured;
      assert.ok(small !== undefined && large !== undefined);
      // the counter sees the work: a create writes at least its record and its event
      assert.ok(small.create.writes >= small.events / 2, JSON.stringify(small.create));
      assert.ok(small.projector.writes > 0, JSON.stringify(small.projector));
      assert.equal(small.unattributed + large.unattributed, 0, 'every operation of the worker is attributed');
      for (const work of ['create', 'createWithKey', 'relay', 'projector'] as const) {
        assert.deepEqual(
          large[work],
          small[work],
          `${work}: ${JSON.stringify({ small: small[work], large: large[work] })}`,
        );
      }
    });
  });
}
