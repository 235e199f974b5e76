import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeyring, parseKeys } from '../../src/crypto/keyring.ts';
import { IntegrityError } from '../../src/errors.ts';
import { createOpenedRows } from '../../src/transactions/opened-rows.ts';
import { openRecord, sealRecord, toResponse } from '../../src/transactions/transaction-view.ts';
import { TEST_ENCRYPTION_KEYS } from '../helpers.ts';

const keyring = createKeyring(parseKeys(TEST_ENCRYPTION_KEYS));
const at = new Date('2024-10-05T10:00:00Z');
const record = (id: string, version: number, fullName: string, amountMinor: bigint) =>
  sealRecord(
    id,
    {
      userId: 'u-1',
      fullName,
      transactionDate: at,
      amountMinor,
      currency: 'GHS',
      type: 'credit',
    },
    { version, createdAt: at, updatedAt: at, deletedAt: null },
    keyring,
  );

describe('opened rows of a history page', () => {
  it('gives exactly the response JSON of the record, name in clear, the first time and every time after', () => {
    const rows = createOpenedRows(keyring, 10);
    const r = record('tx-1', 1, 'Ama Mensah', 47566n);
    const expected = JSON.stringify(toResponse(openRecord(r, keyring)));
    assert.equal(rows.jsonOf(r), expected);
    assert.equal(rows.jsonOf(r), expected);
    assert.match(expected, /"full_name":"Ama Mensah"/);
  });

  it('shows a new version as it is, not the version it remembered', () => {
    const rows = createOpenedRows(keyring, 10);
    assert.match(rows.jsonOf(record('tx-2', 1, 'Ama Mensah', 100n)), /"transaction_amount":"1.00"/);
    const updated = record('tx-2', 2, 'Ama Owusu', 250n);
    assert.match(rows.jsonOf(updated), /"full_name":"Ama Owusu".*"transaction_amount":"2.50".*"version":2/);
  });

  it('refuses a ciphertext moved onto another record, even one whose own name it opened', () => {
    const rows = createOpenedRows(keyring, 10);
    const victim = record('tx-3', 1, 'Kofi Boateng', 100n);
    rows.jsonOf(victim);
    const moved = { ...record('tx-4', 1, 'Someone Else', 100n), fullNameSealed: victim.fullNameSealed };
    assert.throws(() => rows.jsonOf(moved), IntegrityError);
  });
});
