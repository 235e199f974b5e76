import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Keyring } from '../crypto/keyring.ts';
import type { ReencryptionStore, SealedItem } from './reencryption-store.port.ts';
import { responseAad } from '../transactions/idempotent-create.ts';
import { nameAad } from '../transactions/transaction-view.ts';
import { secretAad } from '../webhooks/webhooks.service.ts';

export interface ReencryptProgress {
  readonly pass: number;
  /** Values under an old key when the pass began: an estimate, concurrent writes move it. */
  readonly total: number;
  /** Values handled in this pass. */
  readonly seen: number;
  readonly resealed: number;
  readonly skipped: number;
  readonly failed: number;
}

export interface ReencryptFailure {
  /** Where the value is; never the value or what it holds. */
  readonly place: SealedItem['place'];
  readonly reason: string;
}

export interface ReencryptResult {
  readonly keyId: string;
  /** Values re-sealed under the current key, over all passes. */
  readonly resealed: number;
  /** Values a writer changed (or deleted) between the read and the replacement: left to it. */
  readonly skipped: number;
  /** Distinct values that could not be opened (unknown key, failed authentication): left as they are. */
  readonly failed: number;
  readonly failures: readonly ReencryptFailure[];
  readonly passes: number;
  /** Values still under an old key at the end; 0 means the old keys may be removed. */
  readonly remaining: number;
  readonly aborted: boolean;
}

export interface ReencryptOptions {
  /** Records read per page. */
  readonly batchSize?: number;
  /** Passes at most; each later pass only confirms or catches values written meanwhile. */
  readonly maxPasses?: number;
  /** Stops between two values; the run can be started again and continues where this one was. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ReencryptProgress) => void;
}

const MAX_LISTED_FAILURES = 100;

/**
 * Key rotation, online: every sealed value at rest (transaction names, their audit versions,
 * stored idempotent responses) not under the current key is opened with the key it names and
 * sealed again under the current one, replaced only if still stored as read. The store hands out
 * only values under an old key, so a run killed midway and started again, or a second run, reads
 * just what is left: nothing is done twice. A pass that re-sealed anything is followed by another,
 * which catches values rewritten under an old key meanwhile and proves the store clean.
 */
export async function reencrypt(
  deps: { readonly store: ReencryptionStore; readonly keyring: Keyring },
  options: ReencryptOptions = {},
): Promise<ReencryptResult> {
  const { store, keyring } = deps;
  const batchSize = options.batchSize ?? 200;
  const maxPasses = options.maxPasses ?? 3;
  const prefix = `v1.${keyring.currentKeyId}.`;
  const failedPlaces = new Set<string>();
  const failures: ReencryptFailure[] = [];
  let resealed = 0;
  let skipped = 0;
  let passes = 0;
  let clean = false;
  let aborted = false;

  async function handle(item: SealedItem): Promise<'resealed' | 'skipped' | 'failed'> {
    if (keyring.keyIdOf(item.sealed) === keyring.currentKeyId) return 'skipped';
    const aad = associatedData(item.subject);
    let plaintext: string;
    try {
      plaintext = keyring.open(item.sealed, aad);
    } catch (error) {
      const place = `${item.place.collection}/${item.place.id}/${item.place.field}`;
      if (!failedPlaces.has(place)) {
        failedPlaces.add(place);
        if (failures.length < MAX_LISTED_FAILURES) {
          failures.push({ place: item.place, reason: error instanceof Error ? error.message : 'unreadable' });
        }
      }
      return 'failed';
    }
    return (await store.replace(item, keyring.seal(plaintext, aad))) ? 'resealed' : 'skipped';
  }

  while (passes < maxPasses && !clean && !aborted) {
    passes += 1;
    const progress = {
      pass: passes,
      total: await store.countStale(prefix),
      seen: 0,
      resealed: 0,
      skipped: 0,
      failed: 0,
    };
    let cursor: string | null = null;
    do {
      const page = await store.scanStale(prefix, cursor, batchSize);
      for (const item of page.items) {
        if (options.signal?.aborted === true) {
          aborted = true;
          break;
        }
        progress[await handle(item)] += 1;
        progress.seen += 1;
        options.onProgress?.({ ...progress });
        // The embedded store answers synchronously: let requests served by this process interleave.
        await nextTurn();
      }
      cursor = page.next;
    } while (cursor !== null && !aborted);
    resealed += progress.resealed;
    skipped += progress.skipped;
    clean = !aborted && progress.seen === 0;
    // Only values that cannot be opened are left: another pass would find just those again.
    if (progress.resealed + progress.skipped === 0) break;
  }

  return {
    keyId: keyring.currentKeyId,
    resealed,
    skipped,
    failed: failedPlaces.size,
    failures,
    passes,
    remaining: clean ? 0 : await store.countStale(prefix),
    aborted,
  };
}

function associatedData(subject: SealedItem['subject']): string {
  switch (subject.kind) {
    case 'transaction_name':
      return nameAad(subject.transactionId);
    case 'idempotent_response':
      return responseAad(subject.scope, subject.key);
    case 'webhook_secret':
      return secretAad(subject.subscriptionId);
  }
}
