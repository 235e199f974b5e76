import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { reconcileUser } from '../../src/analytics/stats-projection.service.ts';
import { startApp, uniqueId, type StoreKind, type TestApp } from '../helpers.ts';

for (const store of ['embedded', 'mongodb'] as const satisfies readonly StoreKind[]) {
  describe(`reconciling a user (${store} store)`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(store);
    });
    after(() => t.close());

    it('leaves a user who never had a transaction unknown: analytics still answers 404', async () => {
      const user = uniqueId('nobody');
      assert.equal(await reconcileUser(t.deps.storage.stats, user, new Date()), 0);
      assert.equal(await t.deps.storage.stats.read(user), null);
      const res = await t.inject({ method: 'GET', url: `/api/v1/users/${user}/analytics` });
      assert.equal(res.statusCode, 404, res.body);
    });
  });
}
