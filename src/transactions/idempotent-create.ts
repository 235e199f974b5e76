import { createHash } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.ts';
import { AppError, conflict } from '../errors.ts';
import { newTransactionId } from '../ids/ids.ts';
import { DuplicateIdError, type TransactionStore } from './transaction-store.port.ts';
import { type IdempotencyRecord, type IdempotencyStore } from './idempotency-store.port.ts';
import type { Principal } from '../auth/principal.ts';
import type { BodyInput } from './transaction-input.ts';
import type { TransactionRecord } from './transaction.ts';
import type { TransactionResponse } from './transactions.schemas.ts';

export interface CreateResult {
  readonly status: number;
  readonly body: TransactionResponse;
  readonly replayed: boolean;
}

interface Deps {
  readonly store: IdempotencyStore;
  readonly transactions: TransactionStore;
  readonly keyring: Keyring;
  readonly clock: () => Date;
  readonly ttlMs: number;
  readonly insertNew: (id: string, input: BodyInput, actor: Principal) => Promise<TransactionResponse>;
  readonly view: (record: TransactionRecord) => TransactionResponse;
}

/** Associated data binding a stored response to its (scope, key); re-encryption needs it too. */
export const responseAad = (scope: string, key: string): string =>
  `idempotency/${JSON.stringify([scope, key])}`;

/** How long a claim protects an in-flight request before a retry may take it over. */
const LOCK_MS = 30_000;

/**
 * SPEC "Idempotency". The key is claimed before anything is created, with a transaction id
 * reserved in the claim: a retry after a crash reuses that id, so the store's unique id makes a
 * second creation impossible even if the first request died between insert and completion.
 * Stored responses hold a customer name, so they are sealed like the name itself.
 */
export function createIdempotentCreate(deps: Deps) {
  const aad = responseAad;

  return async function idempotentCreate(
    input: BodyInput,
    actor: Principal,
    key: string,
  ): Promise<CreateResult> {
    const now = deps.clock();
    const candidate: IdempotencyRecord = {
      scope: actor.clientId,
      key,
      fingerprint: fingerprint(input.body),
      transactionId: newTransactionId(now.getTime()),
      state: 'in_flight',
      status: null,
      responseSealed: null,
      lockedUntil: new Date(now.getTime() + LOCK_MS),
      expiresAt: new Date(now.getTime() + deps.ttlMs),
    };
    const claim = await deps.store.claim(candidate, now);
    const record = claim.record;
    if (record.fingerprint !== candidate.fingerprint) {
      throw new AppError(422, 'idempotency_key_reused', 'Idempotency key reused', {
        detail: 'this Idempotency-Key was used with a different request body',
        errors: [{ pointer: '', message: 'body differs from the first request with this Idempotency-Key' }],
      });
    }
    if (claim.kind === 'existing') {
      if (record.state === 'in_flight' || record.responseSealed === null || record.status === null) {
        throw conflict(
          'idempotency_in_flight',
          'a request with this Idempotency-Key is still being processed',
        );
      }
      const body = JSON.parse(
        deps.keyring.open(record.responseSealed, aad(record.scope, key)),
      ) as TransactionResponse;
      return { status: record.status, body, replayed: true };
    }

    let body: TransactionResponse;
    try {
      body = await deps.insertNew(record.transactionId, input, actor);
    } catch (error) {
      if (!(error instanceof DuplicateIdError)) {
        await deps.store.release(record.scope, key).catch(() => undefined);
        throw error;
      }
      // an earlier attempt with this key created it and died before completing the key
      const existing = await deps.transactions.get(record.transactionId);
      if (existing === null) throw error;
      body = deps.view(existing);
    }
    await deps.store.complete(
      record.scope,
      key,
      201,
      deps.keyring.seal(JSON.stringify(body), aad(record.scope, key)),
    );
    return { status: 201, body, replayed: false };
  };
}

/** A digest of the body independent of key order, so a retry that reorders fields still matches. */
function fingerprint(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}
