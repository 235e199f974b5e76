import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertStoreContract } from './alert-store.contract.ts';
import { contractStores } from './contract-stores.ts';
import { useStorage } from './storage.contract.ts';
import { uniqueId } from '../helpers.ts';

/** The AlertStore and CreditScoreStore contracts on every adapter, each on a store of its own. */

const { openEmbedded, openMongo } = await contractStores('alerts');

alertStoreContract('embedded', openEmbedded);

void describe('MongoDB alerts', () => {
  alertStoreContract('mongodb', openMongo);

  void describe('rule keys', () => {
    const store = useStorage(openMongo);

    void it('refuses a rule key that would become a nested or operator field, saving none of the batch', async () => {
      const userId = uniqueId('u');
      const state = { active: true, crossings: 1, since: '2024-10-05T09:30:15.678Z' };
      for (const key of ['velocity:debit:G.HS', '$velocity', '']) {
        await assert.rejects(
          store().alerts.saveRuleStates(
            new Map([
              [
                userId,
                {
                  states: new Map([
                    ['velocity:count', state],
                    [key, state],
                  ]),
                  evaluatedThrough: null,
                },
              ],
            ]),
          ),
          RangeError,
        );
      }
      assert.deepEqual(await store().alerts.ruleStates(userId), {
        states: new Map(),
        evaluatedThrough: null,
      });
    });
  });
});
