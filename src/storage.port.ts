import type { AlertStore } from './alerts/alert-store.port.ts';
import type { CreditScoreStore } from './scores/credit-score-store.port.ts';
import type { IdempotencyStore } from './transactions/idempotency-store.port.ts';
import type { Outbox } from './events/outbox.port.ts';
import type { ReencryptionStore } from './reencrypt/reencryption-store.port.ts';
import type { StatsStore } from './analytics/stats-store.port.ts';
import type { TransactionStore } from './transactions/transaction-store.port.ts';
import type { WebhookStore } from './webhooks/webhook-store.port.ts';

/** A store adapter: both stores plus lifecycle. */
export interface Storage {
  readonly name: string;
  readonly transactions: TransactionStore;
  readonly idempotency: IdempotencyStore;
  readonly reencryption: ReencryptionStore;
  readonly outbox: Outbox;
  readonly stats: StatsStore;
  readonly alerts: AlertStore;
  readonly scores: CreditScoreStore;
  readonly webhooks: WebhookStore;
  /** Answers when the backing server serves a real request; throws otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
