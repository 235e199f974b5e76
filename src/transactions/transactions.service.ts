import { withTraceContext } from '../telemetry/stored-trace-context.ts';
import { tracing } from '../telemetry/tracing.ts';
import { actsFor, type Principal } from '../auth/principal.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { AppError, notFound, preconditionFailed } from '../errors.ts';
import { newEventId, newTransactionId } from '../ids/ids.ts';
import type { Storage } from '../storage.port.ts';
import { createIdempotentCreate, type CreateResult } from './idempotent-create.ts';
import { resolveFields, type BodyInput } from './transaction-input.ts';
import { nameAad, openRecord, sealRecord, toResponse, withName } from './transaction-view.ts';
import { eventStateOf, type TransactionRecord, type TransactionWrite } from './transaction.ts';
import type { TransactionResponse, VersionsResponse } from './transactions.schemas.ts';
import { formatAmount } from '../money/amount.ts';

export interface TransactionServiceDeps {
  readonly storage: Storage;
  readonly keyring: Keyring;
  readonly clock: () => Date;
  readonly defaultCurrency: string;
  readonly idempotencyTtlMs: number;
  /**
   * Awaited after every committed write, before it is acknowledged: invalidates the user's cached
   * reads (so the next read of any client sees the write) and nudges the outbox relay.
   */
  readonly afterWrite: (userId: string) => Promise<void>;
}

/** `If-Match` as parsed: a version, `*` (any current version), or absent. */
export type IfMatch = number | '*' | undefined;

const MAX_WRITE_ATTEMPTS = 5;

export type TransactionService = ReturnType<typeof createTransactionService>;

export function createTransactionService(deps: TransactionServiceDeps) {
  const { storage, keyring, clock } = deps;
  const store = storage.transactions;

  function changeOf(
    record: TransactionRecord,
    previous: TransactionRecord | null,
    actor: Principal,
  ): TransactionWrite {
    const action = previous === null ? 'created' : record.deletedAt === null ? 'updated' : 'deleted';
    const at = record.updatedAt;
    return {
      record,
      event: {
        eventId: newEventId(),
        type: `transaction.${action}`,
        occurredAt: at,
        userId: record.userId,
        transactionId: record.id,
        version: record.version,
        before: previous === null ? null : eventStateOf(previous),
        after: action === 'deleted' ? null : eventStateOf(record),
      },
      audit: {
        version: record.version,
        action,
        at,
        actor: actor.subject,
        fullNameSealed: record.fullNameSealed,
        state: eventStateOf(record),
      },
      ...withTraceContext(tracing().current()),
    };
  }

  async function insertNew(id: string, input: BodyInput, actor: Principal): Promise<TransactionResponse> {
    const now = clock();
    const fields = resolveFields(input, null, 'create', deps.defaultCurrency, now);
    if (!actsFor(actor, fields.userId)) {
      throw new AppError(403, 'forbidden_user', 'Forbidden', {
        detail: 'this token may only write for its own user',
      });
    }
    const record = sealRecord(
      id,
      fields,
      { version: 1, createdAt: now, updatedAt: now, deletedAt: null },
      keyring,
    );
    await store.insert(changeOf(record, null, actor));
    await deps.afterWrite(record.userId);
    // answered from the clear input: decrypting what was just sealed would only cost time
    return toResponse(withName(record, fields.fullName));
  }

  /** Read, check, compute, compare-and-set; retried when another writer got in between. */
  async function update(
    id: string,
    ifMatch: IfMatch,
    actor: Principal,
    next: (current: TransactionRecord, now: Date) => TransactionRecord,
  ): Promise<TransactionRecord> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await liveRecord(id, actor);
      // the request itself is judged first: an invalid body is 422 whatever its If-Match says
      const record = next(current, clock());
      if (typeof ifMatch === 'number' && ifMatch !== current.version) {
        throw preconditionFailed(`If-Match ${ifMatch} does not match the current version ${current.version}`);
      }
      if (await store.replace(current.version, changeOf(record, current, actor))) {
        await deps.afterWrite(record.userId);
        return record;
      }
      if (ifMatch !== undefined) {
        await liveRecord(id, actor);
        throw preconditionFailed('the transaction was changed by another request');
      }
    }
    throw new AppError(409, 'write_conflict', 'Conflict', { detail: 'too many concurrent writes; retry' });
  }

  /** Another user's transaction answers exactly like a missing one, so ids cannot be probed. */
  async function liveRecord(id: string, principal: Principal): Promise<TransactionRecord> {
    const record = await store.get(id);
    if (record === null || record.deletedAt !== null || !actsFor(principal, record.userId)) {
      throw notFound(`no transaction ${id}`);
    }
    return record;
  }

  function modify(
    id: string,
    input: BodyInput,
    mode: 'replace' | 'patch',
    ifMatch: IfMatch,
    actor: Principal,
  ) {
    return update(id, ifMatch, actor, (current, now) => {
      const fields = resolveFields(input, openRecord(current, keyring), mode, deps.defaultCurrency, now);
      const meta = {
        version: current.version + 1,
        createdAt: current.createdAt,
        updatedAt: now,
        deletedAt: null,
      };
      return sealRecord(id, fields, meta, keyring);
    });
  }

  const idempotentCreate = createIdempotentCreate({
    store: storage.idempotency,
    transactions: store,
    keyring,
    clock,
    ttlMs: deps.idempotencyTtlMs,
    insertNew,
    view: (record) => toResponse(openRecord(record, keyring)),
  });

  return {
    async create(
      input: BodyInput,
      actor: Principal,
      idempotencyKey: string | undefined,
    ): Promise<CreateResult> {
      if (idempotencyKey === undefined) {
        return { status: 201, body: await insertNew(newTransactionId(), input, actor), replayed: false };
      }
      return idempotentCreate(input, actor, idempotencyKey);
    },

    async get(id: string, principal: Principal): Promise<TransactionResponse> {
      return toResponse(openRecord(await liveRecord(id, principal), keyring));
    },

    async replace(
      id: string,
      input: BodyInput,
      ifMatch: IfMatch,
      actor: Principal,
    ): Promise<TransactionResponse> {
      return toResponse(openRecord(await modify(id, input, 'replace', ifMatch, actor), keyring));
    },

    async patch(
      id: string,
      input: BodyInput,
      ifMatch: IfMatch,
      actor: Principal,
    ): Promise<TransactionResponse> {
      return toResponse(openRecord(await modify(id, input, 'patch', ifMatch, actor), keyring));
    },

    async remove(id: string, ifMatch: IfMatch, actor: Principal): Promise<void> {
      await update(id, ifMatch, actor, (current, now) => ({
        ...current,
        version: current.version + 1,
        updatedAt: now,
        deletedAt: now,
      }));
    },

    async versions(id: string): Promise<VersionsResponse> {
      const trail = await store.auditTrail(id);
      if (trail.length === 0) throw notFound(`no transaction ${id}`);
      return {
        transaction_id: id,
        versions: trail.map((entry) => ({
          version: entry.version,
          action: entry.action,
          written_at: entry.at.toISOString(),
          written_by: entry.actor,
          full_name: keyring.open(entry.fullNameSealed, nameAad(id)),
          transaction_date: entry.state.transactionDate.toISOString(),
          transaction_amount: formatAmount(entry.state.amountMinor, entry.state.currency),
          transaction_type: entry.state.type,
          transaction_currency: entry.state.currency,
        })),
      };
    },
  };
}
