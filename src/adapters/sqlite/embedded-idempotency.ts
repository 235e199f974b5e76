import type { DatabaseSync } from 'node:sqlite';
import type {
  ClaimResult,
  IdempotencyRecord,
  IdempotencyStore,
} from '../../transactions/idempotency-store.port.ts';
import {
  inWriteTransaction,
  readDate,
  readNullable,
  readNumber,
  readText,
  settle,
  type Row,
} from './embedded-sqlite.ts';

/**
 * Idempotency keys in SQLite. A claim reads and decides inside one BEGIN IMMEDIATE transaction,
 * so concurrent claims (in this process or another on the same file) are serialized: exactly one
 * wins.
 */
export function createEmbeddedIdempotencyStore(db: DatabaseSync): IdempotencyStore {
  const select = db.prepare('SELECT * FROM idempotency_keys WHERE scope = ? AND key = ?');
  const upsert = db.prepare(
    `INSERT OR REPLACE INTO idempotency_keys
       (scope, key, fingerprint, transaction_id, state, status, response_sealed, locked_until, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const relock = db.prepare('UPDATE idempotency_keys SET locked_until = ? WHERE scope = ? AND key = ?');
  const complete = db.prepare(
    `UPDATE idempotency_keys SET state = 'completed', status = ?, response_sealed = ?
     WHERE scope = ? AND key = ?`,
  );
  const release = db.prepare(
    `DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND state = 'in_flight'`,
  );
  const sweep = db.prepare('DELETE FROM idempotency_keys WHERE expires_at <= ?');

  function claimNow(candidate: IdempotencyRecord, now: Date): ClaimResult {
    const row = select.get(candidate.scope, candidate.key);
    const existing = row === undefined ? null : toRecord(row);
    if (existing === null || existing.expiresAt.getTime() <= now.getTime()) {
      upsert.run(
        candidate.scope,
        candidate.key,
        candidate.fingerprint,
        candidate.transactionId,
        candidate.state,
        candidate.status,
        candidate.responseSealed,
        candidate.lockedUntil.getTime(),
        candidate.expiresAt.getTime(),
      );
      return { kind: 'claimed', record: candidate };
    }
    if (existing.state === 'in_flight' && existing.lockedUntil.getTime() <= now.getTime()) {
      // Takeover keeps the reserved transaction id, so the retry cannot create a second record.
      relock.run(candidate.lockedUntil.getTime(), candidate.scope, candidate.key);
      return { kind: 'claimed', record: { ...existing, lockedUntil: candidate.lockedUntil } };
    }
    return { kind: 'existing', record: existing };
  }

  return {
    claim: (candidate, now) => settle(() => inWriteTransaction(db, () => claimNow(candidate, now))),
    complete: (scope, key, status, responseSealed) =>
      settle(() => {
        complete.run(status, responseSealed, scope, key);
      }),
    release: (scope, key) =>
      settle(() => {
        release.run(scope, key);
      }),
    sweepExpired: (now) => settle(() => Number(sweep.run(now.getTime()).changes)),
  };
}

function toRecord(row: Row): IdempotencyRecord {
  const state = readText(row, 'state');
  if (state !== 'in_flight' && state !== 'completed')
    throw new TypeError(`unknown idempotency state ${state}`);
  return {
    scope: readText(row, 'scope'),
    key: readText(row, 'key'),
    fingerprint: readText(row, 'fingerprint'),
    transactionId: readText(row, 'transaction_id'),
    state,
    status: readNullable(row, 'status', readNumber),
    responseSealed: readNullable(row, 'response_sealed', readText),
    lockedUntil: readDate(row, 'locked_until'),
    expiresAt: readDate(row, 'expires_at'),
  };
}
