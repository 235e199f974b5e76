import { LRUCache } from 'lru-cache';
import type { Keyring } from '../crypto/keyring.ts';
import type { TransactionRecord } from './transaction.ts';
import { nameAad, toResponse, withName } from './transaction-view.ts';

/** Enough for a few hundred pages of 50 without holding more names than the process needs. */
export const DEFAULT_OPENED_ROWS = 20_000;

export type OpenedRows = ReturnType<typeof createOpenedRows>;

/**
 * The response JSON of record versions this process has opened, bounded (least recently used
 * go): a history page decrypts and serialises only the rows it has not seen before, instead of
 * one AES-GCM open, one toResponse and one JSON object per row on every read. A version's
 * response never changes (every update is a new version), so the key is the record id, its
 * version and the exact ciphertext that was authenticated for it: a tampered or moved
 * ciphertext is opened, and refused, afresh; a re-encrypted name is a new entry. Memory only,
 * never stored or logged (names stay sealed at rest).
 */
export function createOpenedRows(keyring: Keyring, max: number = DEFAULT_OPENED_ROWS) {
  const rows = new LRUCache<string, string>({ max });
  return {
    /** `JSON.stringify(toResponse(...))` of the record with its name opened. */
    jsonOf(record: TransactionRecord): string {
      const key = `${record.id}\0${record.version}\0${record.fullNameSealed}`;
      let json = rows.get(key);
      if (json === undefined) {
        const name = keyring.open(record.fullNameSealed, nameAad(record.id));
        json = JSON.stringify(toResponse(withName(record, name)));
        rows.set(key, json);
      }
      return json;
    },
  };
}
