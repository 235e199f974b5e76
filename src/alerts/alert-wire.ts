import type { AlertRaised } from '../events/alert-events.ts';
import type { Alert } from './alert-evaluation.ts';

/** One event per alert, so its event_id is the alert id: a republished alert is a duplicate receivers drop. */
export function alertToWire(alert: Alert): AlertRaised {
  return {
    event_id: alert.id,
    type: 'alert.raised',
    occurred_at: alert.raisedAt.toISOString(),
    user_id: alert.userId,
    alert_id: alert.id,
    rule: alert.rule,
    severity: alert.severity,
    transaction_id: alert.transactionId,
    details: alert.details,
    rules_version: alert.rulesVersion,
  };
}
