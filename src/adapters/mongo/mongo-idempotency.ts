import type { Collection } from 'mongodb';
import type {
  ClaimResult,
  IdempotencyRecord,
  IdempotencyStore,
} from '../../transactions/idempotency-store.port.ts';
import { isDuplicateKey } from './mongo-schema.ts';
import type { Guard } from './mongo-guard.ts';

/** One document per (scope, key); expiry is swept explicitly because TTL indexes are not everywhere. */
export interface IdempotencyDoc {
  _id: string;
  scope: string;
  key: string;
  fingerprint: string;
  transaction_id: string;
  state: IdempotencyRecord['state'];
  status: number | null;
  response_sealed: string | null;
  locked_until: Date;
  expires_at: Date;
}

// Each lost race means another claimant changed the document; a handful of rounds settles any burst.
const MAX_CLAIM_ROUNDS = 8;

/**
 * A claim is decided by inserting the candidate under the unique _id: of concurrent claimants
 * exactly one insert succeeds, on every MongoDB-protocol server. An expired record is deleted
 * (conditionally on its expiry) and the insert raced again. Taking over a lapsed lock is a
 * conditional update of locked_until; should a server apply two such updates (one that evaluates
 * the filter and writes in two steps), both takers hold the same reserved transaction id, so they
 * still cannot create two transactions.
 */
export function createMongoIdempotencyStore(
  keys: Collection<IdempotencyDoc>,
  guard: Guard,
): IdempotencyStore {
  async function claim(candidate: IdempotencyRecord, now: Date): Promise<ClaimResult> {
    const doc = toDoc(candidate);
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round += 1) {
      try {
        await guard(() => keys.insertOne(doc));
        return { kind: 'claimed', record: candidate };
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      const existing = await guard(() => keys.findOne({ _id: doc._id }));
      if (existing === null) continue; // released or swept since our insert failed
      if (existing.expires_at.getTime() <= now.getTime()) {
        // Delete, then race for the insert again: only a unique-_id insert decides a winner atomically.
        await guard(() => keys.deleteOne({ _id: doc._id, expires_at: existing.expires_at }));
        continue;
      }
      if (existing.state === 'in_flight' && existing.locked_until.getTime() <= now.getTime()) {
        // Takeover keeps the reserved transaction id, so the retry cannot create a second record.
        const relocked = await guard(() =>
          keys.updateOne(
            { _id: doc._id, state: 'in_flight', locked_until: existing.locked_until },
            { $set: { locked_until: candidate.lockedUntil } },
          ),
        );
        if (relocked.matchedCount === 1) {
          return { kind: 'claimed', record: { ...toRecord(existing), lockedUntil: candidate.lockedUntil } };
        }
        continue;
      }
      return { kind: 'existing', record: toRecord(existing) };
    }
    throw new Error(`idempotency claim still contended after ${MAX_CLAIM_ROUNDS} rounds`);
  }

  return {
    claim,
    complete: async (scope, key, status, responseSealed) => {
      await guard(() =>
        keys.updateOne(
          { _id: idOf(scope, key) },
          { $set: { state: 'completed', status, response_sealed: responseSealed } },
        ),
      );
    },
    release: async (scope, key) => {
      await guard(() => keys.deleteOne({ _id: idOf(scope, key), state: 'in_flight' }));
    },
    sweepExpired: async (now) => {
      const result = await guard(() => keys.deleteMany({ expires_at: { $lte: now } }));
      return result.deletedCount;
    },
  };
}

/** JSON of the pair cannot collide: no scope/key pair encodes to another pair's string. */
function idOf(scope: string, key: string): string {
  return JSON.stringify([scope, key]);
}

function toDoc(record: IdempotencyRecord): IdempotencyDoc {
  return {
    _id: idOf(record.scope, record.key),
    scope: record.scope,
    key: record.key,
    fingerprint: record.fingerprint,
    transaction_id: record.transactionId,
    state: record.state,
    status: record.status,
    response_sealed: record.responseSealed,
    locked_until: record.lockedUntil,
    expires_at: record.expiresAt,
  };
}

function toRecord(doc: IdempotencyDoc): IdempotencyRecord {
  return {
    scope: doc.scope,
    key: doc.key,
    fingerprint: doc.fingerprint,
    transactionId: doc.transaction_id,
    state: doc.state,
    status: doc.status,
    responseSealed: doc.response_sealed,
    lockedUntil: doc.locked_until,
    expiresAt: doc.expires_at,
  };
}
