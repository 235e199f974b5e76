import { LRUCache } from 'lru-cache';
import type { Keyring } from '../crypto/keyring.ts';
import type { TransactionRecord } from './transaction.ts';
import { nameAad } from './transaction-view.ts';

/** Enough for a few hundred pages of 50 without holding more names than the process needs. */
export const DEFAULT_OPENED_NAMES = 20_000;

export type OpenedNames = ReturnType<typeof createOpenedNames>;

/**
 * The clear names of records this process has opened, by record id and sealed value, bounded
 * (least recently used go): a history page decrypts only the names it has not opened before,
 * instead of one AES-GCM open per row on every read. Memory only, never stored or logged; a
 * value is found only under the exact ciphertext that was authenticated for that record (the
 * key includes both), so a tampered or moved ciphertext is opened, and refused, afresh, and a
 * re-encrypted or updated name is a new entry.
 */
export function createOpenedNames(keyring: Keyring, max: number = DEFAULT_OPENED_NAMES) {
  const names = new LRUCache<string, string>({ max });
  return {
    nameOf(record: TransactionRecord): string {
      const key = `${record.id}\0${record.fullNameSealed}`;
      let name = names.get(key);
      if (name === undefined) {
        name = keyring.open(record.fullNameSealed, nameAad(record.id));
        names.set(key, name);
      }
      return name;
    },
  };
}
