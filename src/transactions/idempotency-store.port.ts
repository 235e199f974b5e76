/** What an Idempotency-Key remembers: the response to replay, sealed because it holds a name. */
export interface IdempotencyRecord {
  readonly scope: string;
  readonly key: string;
  readonly fingerprint: string;
  /** The transaction id reserved for this key, so a retry after a crash cannot create a second. */
  readonly transactionId: string;
  readonly state: 'in_flight' | 'completed';
  readonly status: number | null;
  readonly responseSealed: string | null;
  readonly lockedUntil: Date;
  readonly expiresAt: Date;
}

export type ClaimResult =
  | { readonly kind: 'claimed'; readonly record: IdempotencyRecord }
  | { readonly kind: 'existing'; readonly record: IdempotencyRecord };

export interface IdempotencyStore {
  /**
   * Claims (scope, key) for a first request; if a live record exists returns it instead. An
   * expired record is replaced; an in-flight one whose lock has lapsed is taken over (same
   * transaction id, so the takeover cannot create a second transaction).
   */
  claim(candidate: IdempotencyRecord, now: Date): Promise<ClaimResult>;
  complete(scope: string, key: string, status: number, responseSealed: string): Promise<void>;
  /** Forgets an in-flight claim whose request failed before creating anything. */
  release(scope: string, key: string): Promise<void>;
  /** Deletes records whose expiresAt has passed; returns how many. */
  sweepExpired(now: Date): Promise<number>;
}
