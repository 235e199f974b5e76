/**
 * Counters the service keeps about itself (events relayed, projected, dead-lettered, repairs).
 * A plain registry for now; /metrics will expose it in Prometheus format.
 */
export type CounterName =
  | 'outbox_published_total'
  | 'outbox_publish_failures_total'
  | 'events_projected_total'
  | 'events_dead_lettered_total'
  | 'reconciliation_repairs_total'
  | 'analytics_fallback_total'
  | 'cache_hits_total'
  | 'cache_misses_total'
  | 'cache_coalesced_total'
  | 'cache_bypasses_total'
  | 'cache_errors_total'
  | 'cache_refreshes_total'
  | 'webhook_delivered_total'
  | 'webhook_failed_attempts_total'
  | 'webhook_dead_lettered_total'
  | 'alerts_raised_total';

export interface Metrics {
  inc(name: CounterName, by?: number): void;
  get(name: CounterName): number;
}

export function createMetrics(): Metrics {
  const counters = new Map<CounterName, number>();
  return {
    inc: (name, by = 1) => counters.set(name, (counters.get(name) ?? 0) + by),
    get: (name) => counters.get(name) ?? 0,
  };
}
