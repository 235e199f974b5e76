import type { Alert, RuleState } from './alert-evaluation.ts';

/** Where alerts are kept, with the per-user rule states that make them edge-triggered. */
export interface AlertStore {
  /** Stores the alerts whose id is new; an id already stored is left as it is (redelivery). */
  insert(alerts: readonly Alert[]): Promise<void>;
  /** A user's alerts newest first (raisedAt desc, id desc), strictly after `after`, at most `limit`. */
  listByUser(
    userId: string,
    after: { readonly raisedAt: Date; readonly id: string } | undefined,
    limit: number,
  ): Promise<Alert[]>;
  /** How many alerts of the user were raised at or after `since`. */
  countSince(userId: string, since: Date): Promise<number>;
  /** The user's rule states by rule key (empty for a user never evaluated) and how far they go. */
  ruleStates(userId: string): Promise<UserRuleStates>;
  /**
   * For each user: sets the given rule states (others unchanged) and the position evaluated
   * through, in one transaction where the store has them. One writer per user (the worker).
   */
  saveRuleStates(byUser: ReadonlyMap<string, UserRuleStates>): Promise<void>;
}

/** Where a consumed event sat on its topic, and when it occurred (see alertsReplayed). */
export interface EventPosition {
  readonly partition: number;
  readonly offset: bigint;
  readonly occurredAt: Date;
}

export interface UserRuleStates {
  readonly states: ReadonlyMap<string, RuleState>;
  /** The last event the rules were evaluated for; a replay skips it and those before it. */
  readonly evaluatedThrough: EventPosition | null;
}
