/** The last credit score the worker computed for a user: what `credit_score.changed` compares to. */
export interface StoredCreditScore {
  readonly score: number;
  readonly band: string;
  readonly modelVersion: string;
  readonly computedAt: Date;
}

export interface CreditScoreStore {
  get(userId: string): Promise<StoredCreditScore | null>;
  /** Replaces the stored score of each user given (one transaction where the store has them). */
  put(scores: ReadonlyMap<string, StoredCreditScore>): Promise<void>;
}
