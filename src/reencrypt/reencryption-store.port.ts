/**
 * A sealed value at rest as key rotation sees it: where it lives (the adapter's collection or
 * table, the row's key there, the field), what it was sealed for (its associated data follows
 * from that) and the sealed text. Adapters only move these strings; the caller does the crypto.
 */
export interface SealedItem {
  readonly place: { readonly collection: string; readonly id: string; readonly field: string };
  readonly subject:
    | { readonly kind: 'transaction_name'; readonly transactionId: string }
    | { readonly kind: 'idempotent_response'; readonly scope: string; readonly key: string }
    | { readonly kind: 'webhook_secret'; readonly subscriptionId: string };
  readonly sealed: string;
}

/**
 * Re-encryption after a key rotation. `currentPrefix` is how every value sealed under the current
 * key begins (`v1.<key id>.`); values that begin with it are left out, so a run killed midway, or
 * run again, reads only what is still to do.
 */
export interface ReencryptionStore {
  /** Values not yet under the current key: a progress estimate, concurrent writes move it. */
  countStale(currentPrefix: string): Promise<number>;
  /**
   * Values not under the current key in the records after `cursor` (null: from the start), at
   * most `limit` records; `next` is null once every record has been passed.
   */
  scanStale(
    currentPrefix: string,
    cursor: string | null,
    limit: number,
  ): Promise<{ items: SealedItem[]; next: string | null }>;
  /** Stores `resealed` iff the place still holds `item.sealed`; false when it changed or is gone. */
  replace(item: SealedItem, resealed: string): Promise<boolean>;
}
