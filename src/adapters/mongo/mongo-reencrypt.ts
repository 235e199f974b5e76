import type { Db, Filter } from 'mongodb';
import type { ReencryptionStore, SealedItem } from '../../reencrypt/reencryption-store.port.ts';
import { advanceHead } from './mongo-heads.ts';
import { toRecord, versionId, type HeadDoc, type VersionDoc } from './mongo-schema.ts';
import type { Guard } from './mongo-guard.ts';

interface RawDoc {
  _id: string;
  [field: string]: unknown;
}

interface Phase {
  readonly collection: string;
  /** Dotted paths of the sealed fields. */
  readonly fields: readonly string[];
  /** Other fields the subject is read from. */
  readonly reads: readonly string[];
  readonly subject: (doc: RawDoc) => SealedItem['subject'];
}

const nameOf =
  (field: string) =>
  (doc: RawDoc): SealedItem['subject'] => ({ kind: 'transaction_name', transactionId: text(doc, field) });

/**
 * The commit log comes before the heads: a head rolled forward from a version document then
 * carries a value that is already re-sealed.
 */
const PHASES: readonly Phase[] = [
  {
    collection: 'transaction_versions',
    fields: ['full_name', 'audit.full_name'],
    reads: ['transaction_id'],
    subject: nameOf('transaction_id'),
  },
  { collection: 'transactions', fields: ['full_name'], reads: [], subject: nameOf('_id') },
  {
    collection: 'idempotency_keys',
    fields: ['response_sealed'],
    reads: ['scope', 'key'],
    subject: (doc) => ({ kind: 'idempotent_response', scope: text(doc, 'scope'), key: text(doc, 'key') }),
  },
  {
    collection: 'webhooks',
    fields: ['secret_sealed'],
    reads: [],
    subject: (doc) => ({ kind: 'webhook_secret', subscriptionId: doc._id }),
  },
];

/** Rounds of "head behind the commit log, move it forward" before leaving it to the next writer. */
const MAX_CATCH_UP_ROUNDS = 3;

/**
 * Re-encryption on MongoDB. A value is replaced by an update filtered on the exact sealed string
 * read, so a value a writer changed meanwhile is left alone. Servers that apply such an update as
 * read, modify, rewrite the whole document (FerretDB) can instead undo a concurrent writer's
 * change: version documents are immutable, idempotency responses are immutable once stored, and
 * a head that fell behind the commit log is rolled forward from its newest version document.
 */
export function createMongoReencryption(db: Db, guard: Guard): ReencryptionStore {
  const heads = db.collection<HeadDoc>('transactions');
  const versions = db.collection<VersionDoc>('transaction_versions');

  /** The newest committed version after `version`, walked by _id (versions are contiguous). */
  async function newestAfter(id: string, version: number): Promise<VersionDoc | null> {
    let newest: VersionDoc | null = null;
    for (let next = version + 1; ; next += 1) {
      const doc = await guard(() =>
        versions.findOne({ _id: versionId(id, next) }, { projection: { audit: 0, event: 0 } }),
      );
      if (doc === null) return newest;
      newest = doc;
    }
  }

  async function catchUpHead(id: string): Promise<void> {
    for (let round = 0; round < MAX_CATCH_UP_ROUNDS; round += 1) {
      const head = await guard(() => heads.findOne({ _id: id }, { projection: { version: 1 } }));
      const newest = head === null ? null : await newestAfter(id, head.version);
      if (newest === null) return;
      await advanceHead(heads, guard, toRecord({ ...newest, _id: newest.transaction_id }));
    }
  }

  return {
    async countStale(currentPrefix) {
      const counts = PHASES.flatMap((phase) =>
        phase.fields.map((field) =>
          guard(() =>
            db.collection<RawDoc>(phase.collection).countDocuments({ [field]: stale(currentPrefix) }),
          ),
        ),
      );
      return (await Promise.all(counts)).reduce((sum, n) => sum + n, 0);
    },

    async scanStale(currentPrefix, cursor, limit) {
      const { phaseIndex, after } = parseCursor(cursor);
      const phase = PHASES[phaseIndex];
      if (phase === undefined) return { items: [], next: null };
      const filter: Filter<RawDoc> = {
        $or: phase.fields.map((field) => ({ [field]: stale(currentPrefix) })),
      };
      if (after !== null) filter._id = { $gt: after };
      const projection = Object.fromEntries([...phase.fields, ...phase.reads].map((f) => [f, 1]));
      const docs = await guard(() =>
        db
          .collection<RawDoc>(phase.collection)
          .find(filter, { projection })
          .sort({ _id: 1 })
          .limit(limit)
          .toArray(),
      );
      const items = docs.flatMap((doc) =>
        phase.fields.flatMap((field): SealedItem[] => {
          const sealed = valueAt(doc, field);
          if (typeof sealed !== 'string' || sealed.startsWith(currentPrefix)) return [];
          return [
            {
              place: { collection: phase.collection, id: doc._id, field },
              subject: phase.subject(doc),
              sealed,
            },
          ];
        }),
      );
      const last = docs.at(-1);
      const next =
        last !== undefined && docs.length === limit
          ? encodeCursor(phaseIndex, last._id)
          : phaseIndex + 1 < PHASES.length
            ? encodeCursor(phaseIndex + 1, null)
            : null;
      return { items, next };
    },

    async replace(item, resealed) {
      const { collection, id, field } = item.place;
      if (!PHASES.some((p) => p.collection === collection && p.fields.includes(field))) {
        throw new RangeError(`no sealed field ${collection}.${field}`);
      }
      const result = await guard(() =>
        db
          .collection<RawDoc>(collection)
          .updateOne({ _id: id, [field]: item.sealed }, { $set: { [field]: resealed } }),
      );
      if (collection === 'transactions') await catchUpHead(id);
      return result.matchedCount === 1;
    },
  };
}

/** A string field that does not begin with the current key's prefix. */
function stale(currentPrefix: string) {
  return { $type: 'string', $not: new RegExp(`^${currentPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) };
}

function valueAt(doc: RawDoc, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    value =
      value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  }
  return value;
}

function text(doc: RawDoc, field: string): string {
  const value = doc[field];
  if (typeof value !== 'string') throw new TypeError(`${field}: expected a string`);
  return value;
}

function encodeCursor(phaseIndex: number, after: string | null): string {
  return JSON.stringify([phaseIndex, after]);
}

function parseCursor(cursor: string | null): { phaseIndex: number; after: string | null } {
  if (cursor === null) return { phaseIndex: 0, after: null };
  const parsed: unknown = JSON.parse(cursor);
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    Number.isInteger(parsed[0]) &&
    (typeof parsed[1] === 'string' || parsed[1] === null)
  ) {
    return { phaseIndex: parsed[0] as number, after: parsed[1] as string | null };
  }
  throw new RangeError('not a re-encryption cursor');
}
