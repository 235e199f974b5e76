import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { ReencryptionStore, SealedItem } from '../../reencrypt/reencryption-store.port.ts';
import { readText, settle, type Row } from './embedded-sqlite.ts';

interface Table {
  readonly name: string;
  /** Primary key columns, in index order: the scan is a keyset walk over them. */
  readonly key: readonly string[];
  readonly field: string;
  readonly subject: (row: Row) => SealedItem['subject'];
}

const TABLES: readonly Table[] = [
  {
    name: 'audit',
    key: ['transaction_id', 'version'],
    field: 'full_name',
    subject: (row) => ({ kind: 'transaction_name', transactionId: readText(row, 'transaction_id') }),
  },
  {
    name: 'transactions',
    key: ['id'],
    field: 'full_name',
    subject: (row) => ({ kind: 'transaction_name', transactionId: readText(row, 'id') }),
  },
  {
    name: 'idempotency_keys',
    key: ['scope', 'key'],
    field: 'response_sealed',
    subject: (row) => ({
      kind: 'idempotent_response',
      scope: readText(row, 'scope'),
      key: readText(row, 'key'),
    }),
  },
  {
    name: 'webhooks',
    key: ['id'],
    field: 'secret_sealed',
    subject: (row) => ({ kind: 'webhook_secret', subscriptionId: readText(row, 'id') }),
  },
];

type KeyValue = string | number;

/**
 * Re-encryption on the embedded store. Each replacement is one UPDATE conditioned on the exact
 * sealed string read: SQLite applies it atomically, so a concurrent write either came first (and
 * the replacement changes nothing) or comes after (and stands).
 */
export function createEmbeddedReencryption(db: DatabaseSync): ReencryptionStore {
  const statements = TABLES.map((table) => {
    const keys = table.key.join(', ');
    // substr, not LIKE: LIKE treats `_` (allowed in key ids) as a wildcard and ignores case.
    const stale = `${table.field} IS NOT NULL AND substr(${table.field}, 1, length(:prefix)) <> :prefix`;
    const select = `SELECT ${keys}, ${table.field} AS sealed FROM ${table.name} WHERE ${stale}`;
    const order = `ORDER BY ${keys} LIMIT :limit`;
    const marks = table.key.map((_, i) => `:k${i}`).join(', ');
    return {
      first: db.prepare(`${select} ${order}`),
      after: db.prepare(`${select} AND (${keys}) > (${marks}) ${order}`),
      count: db.prepare(`SELECT count(*) AS n FROM ${table.name} WHERE ${stale}`),
      replace: db.prepare(
        `UPDATE ${table.name} SET ${table.field} = ?
         WHERE ${table.key.map((k) => `${k} = ?`).join(' AND ')} AND ${table.field} = ?`,
      ),
    };
  });

  function tableOf(place: SealedItem['place']): { table: Table; replace: StatementSync } {
    const index = TABLES.findIndex((t) => t.name === place.collection && t.field === place.field);
    const table = TABLES[index];
    const replace = statements[index]?.replace;
    if (table === undefined || replace === undefined) {
      throw new RangeError(`no sealed field ${place.collection}.${place.field}`);
    }
    return { table, replace };
  }

  return {
    countStale: (prefix) =>
      settle(() => statements.reduce((sum, s) => sum + Number(s.count.get({ prefix })?.n ?? 0), 0)),

    scanStale: (prefix, cursor, limit) =>
      settle(() => {
        const { tableIndex, after } = parseCursor(cursor);
        const table = TABLES[tableIndex];
        const statement = statements[tableIndex];
        if (table === undefined || statement === undefined) return { items: [], next: null };
        const rows =
          after === null
            ? statement.first.all({ prefix, limit })
            : statement.after.all({
                prefix,
                limit,
                ...Object.fromEntries(after.map((v, i) => [`k${i}`, v])),
              });
        const items = rows.map((row): SealedItem => ({
          place: { collection: table.name, id: placeId(keyOf(table, row)), field: table.field },
          subject: table.subject(row),
          sealed: readText(row, 'sealed'),
        }));
        const last = rows.at(-1);
        const next =
          last !== undefined && rows.length === limit
            ? JSON.stringify([tableIndex, keyOf(table, last)])
            : tableIndex + 1 < TABLES.length
              ? JSON.stringify([tableIndex + 1, null])
              : null;
        return { items, next };
      }),

    replace: (item, resealed) =>
      settle(() => {
        const { table, replace } = tableOf(item.place);
        const key = table.key.length === 1 ? [item.place.id] : (JSON.parse(item.place.id) as KeyValue[]);
        return Number(replace.run(resealed, ...key, item.sealed).changes) === 1;
      }),
  };
}

/** Key values as JSON can carry them: integers (versions) as numbers. */
function keyOf(table: Table, row: Row): KeyValue[] {
  return table.key.map((column) => {
    const value = row[column];
    if (typeof value === 'string') return value;
    if (typeof value === 'bigint') return Number(value);
    throw new TypeError(`${table.name}.${column}: unexpected key type`);
  });
}

/** A single-column key as it is; a composite one as the JSON of its values. */
function placeId(key: readonly KeyValue[]): string {
  const [only] = key;
  return key.length === 1 && typeof only === 'string' ? only : JSON.stringify(key);
}

function parseCursor(cursor: string | null): { tableIndex: number; after: SQLInputValue[] | null } {
  if (cursor === null) return { tableIndex: 0, after: null };
  const parsed: unknown = JSON.parse(cursor);
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    Number.isInteger(parsed[0]) &&
    (parsed[1] === null ||
      (Array.isArray(parsed[1]) &&
        parsed[1].every((v: unknown) => typeof v === 'string' || typeof v === 'number')))
  ) {
    return { tableIndex: parsed[0] as number, after: parsed[1] as SQLInputValue[] | null };
  }
  throw new RangeError('not a re-encryption cursor');
}
