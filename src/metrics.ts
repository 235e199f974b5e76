import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What the service measures about itself, exposed at /metrics in Prometheus text format. Each
 * Deps has its own registry (tests run many apps in one process, and their counts must not mix);
 * process metrics (CPU, memory, event loop, GC) belong to the process and live in one shared
 * registry, appended to every scrape.
 */
export type CounterName =
  | 'outbox_published_total'
  | 'outbox_publish_failures_total'
  | 'outbox_first_published_total'
  | 'outbox_quarantined_total'
  | 'outbox_relay_operations_total'
  | 'outbox_idle_poll_operations_total'
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

/** Messages of a partition the consumer group has not committed yet. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

export interface Metrics {
  inc(name: CounterName, by?: number): void;
  /** This instance's count since start (what tests and logs read). */
  get(name: CounterName): number;
  /** `route` is the route template (`/api/v1/transactions/:id`), never the raw URL. */
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  /** Seconds from a write (the event's occurred_at) to the broker's acknowledgement. */
  observePublishLag(seconds: number): void;
  /** Read at every scrape; returns the way to stop reading (a stopped worker). */
  readOutboxBacklog(read: () => Promise<number>): () => void;
  readConsumerLag(read: () => Promise<readonly PartitionLag[]>): () => void;
  /** The backlog of the partitions this instance relays (read at scrape). */
  readRelayBacklog(read: () => Promise<number>): () => void;
  /** How many partitions this instance relays now. */
  setRelayPartitions(count: number): void;
  /** The exposition: this instance's families, then the process's. */
  scrape(): Promise<string>;
  readonly contentType: string;
}

const PREFIX = 'fido_';

/** Families split by a label: the counter names that feed them and their label values. */
const COUNTERS: Readonly<Record<CounterName, { family: string; label?: readonly [string, string] }>> = {
  outbox_published_total: { family: 'outbox_published_total' },
  outbox_publish_failures_total: { family: 'outbox_publish_failures_total' },
  outbox_first_published_total: { family: 'outbox_first_published_total' },
  outbox_quarantined_total: { family: 'outbox_quarantined_total' },
  outbox_relay_operations_total: { family: 'outbox_relay_operations_total', label: ['poll', 'found'] },
  outbox_idle_poll_operations_total: {
    family: 'outbox_relay_operations_total',
    label: ['poll', 'empty'],
  },
  events_projected_total: { family: 'events_processed_total' },
  events_dead_lettered_total: { family: 'events_dead_lettered_total' },
  reconciliation_repairs_total: { family: 'reconciliation_repairs_total' },
  analytics_fallback_total: { family: 'analytics_fallback_total' },
  cache_hits_total: { family: 'cache_reads_total', label: ['result', 'hit'] },
  cache_misses_total: { family: 'cache_reads_total', label: ['result', 'miss'] },
  cache_coalesced_total: { family: 'cache_reads_total', label: ['result', 'coalesced'] },
  cache_bypasses_total: { family: 'cache_reads_total', label: ['result', 'bypass'] },
  cache_errors_total: { family: 'cache_errors_total' },
  cache_refreshes_total: { family: 'cache_refreshes_total' },
  webhook_delivered_total: { family: 'webhook_deliveries_total', label: ['outcome', 'delivered'] },
  webhook_failed_attempts_total: { family: 'webhook_deliveries_total', label: ['outcome', 'failed_attempt'] },
  webhook_dead_lettered_total: { family: 'webhook_deliveries_total', label: ['outcome', 'dead_lettered'] },
  alerts_raised_total: { family: 'alerts_raised_total' },
};

const HELP: Readonly<Record<string, string>> = {
  outbox_published_total: 'Outbox events this relay published to the bus, duplicates included',
  outbox_publish_failures_total: 'Relay publish attempts that failed (events stay in the outbox)',
  outbox_first_published_total:
    "Publications that were their event's first (published_total minus this: duplicates)",
  outbox_quarantined_total: 'Stored events set aside as unpublishable and sent to transactions.v1.dlq',
  outbox_relay_operations_total:
    'Store operations of the relay: poll="found" those of polls that found events (over published_total: per event), poll="empty" idle polls',
  events_processed_total: 'transactions.v1 events the worker projected',
  events_dead_lettered_total: 'Malformed events sent to the dead-letter topic',
  reconciliation_repairs_total: 'Per-user statistics the reconciliation found wrong and repaired',
  analytics_fallback_total: 'Analytics reads computed exactly because the worker lagged',
  cache_reads_total: 'Cache reads by result: hit, miss, coalesced (joined a miss in flight), bypass',
  cache_errors_total: 'Cache operations that failed (the read went to the store)',
  cache_refreshes_total: 'Entries recomputed in the background before they expired',
  webhook_deliveries_total:
    'Webhook attempts by outcome; the attempt that dead-letters a delivery counts as failed_attempt too',
  alerts_raised_total: 'Alerts raised by the rules',
};

// Process metrics describe the process, whatever number of apps it hosts: one collector for all.
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const COLLECT_TIMEOUT_MS = 2_000;

export function createMetrics(): Metrics {
  const registry = new Registry();
  const counts = new Map<CounterName, number>();
  const families = new Map<string, Counter>();
  for (const { family, label } of Object.values(COUNTERS)) {
    let counter = families.get(family);
    if (counter === undefined) {
      counter = new Counter({
        name: PREFIX + family,
        help: HELP[family] ?? family,
        labelNames: label === undefined ? [] : [label[0]],
        registers: [registry],
      });
      families.set(family, counter);
    }
    // zero series exist from the start, so rate() sees the first increment
    if (label === undefined) counter.inc(0);
    else counter.inc({ [label[0]]: label[1] }, 0);
  }

  const requests = createRequestHistogram(registry);
  const publishLag = new Histogram({
    name: `${PREFIX}outbox_publish_lag_seconds`,
    help: "Seconds from a write to its event's publication",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers: [registry],
  });
  const backlogReaders = new Set<() => Promise<number>>();
  const lagReaders = new Set<() => Promise<readonly PartitionLag[]>>();
  new Gauge({
    name: `${PREFIX}outbox_backlog`,
    help: 'Events recorded with their writes and not yet published (the same for every instance)',
    registers: [registry],
    async collect() {
      for (const read of backlogReaders) {
        const value = await bounded(read());
        if (value !== undefined) this.set(value); // unknown now: the last value stays
      }
    },
  });
  new Gauge({
    name: `${PREFIX}consumer_lag_messages`,
    help: 'Messages of each partition this worker owns that its group has not committed',
    labelNames: ['topic', 'partition'],
    registers: [registry],
    async collect() {
      this.reset(); // partitions move between members: report only the ones owned now
      for (const read of lagReaders) {
        for (const { topic, partition, lag } of (await bounded(read())) ?? []) {
          this.set({ topic, partition: String(partition) }, lag);
        }
      }
    },
  });

  const relayBacklogReaders = new Set<() => Promise<number>>();
  new Gauge({
    name: `${PREFIX}outbox_relay_backlog`,
    help: 'Events not yet published in the partitions this instance relays',
    registers: [registry],
    async collect() {
      for (const read of relayBacklogReaders) {
        const value = await bounded(read());
        if (value !== undefined) this.set(value);
      }
    },
  });
  const relayPartitions = new Gauge({
    name: `${PREFIX}outbox_relay_partitions`,
    help: 'Partitions of transactions.v1 whose events this instance relays (those its consumer owns)',
    registers: [registry],
  });

  const reader =
    <T>(set: Set<T>) =>
    (read: T) => {
      set.add(read);
      return () => {
        set.delete(read);
      };
    };

  // labelled children looked up once: prom-client hashes the label set on every call otherwise,
  // a measurable share of a cached read
  const counterOf = new Map<CounterName, { inc(by: number): void }>();

  return {
    inc(name, by = 1) {
      counts.set(name, (counts.get(name) ?? 0) + by);
      let counter = counterOf.get(name);
      if (counter === undefined) {
        const { family, label } = COUNTERS[name];
        const found = families.get(family);
        if (found === undefined) return;
        counter = label === undefined ? found : found.labels({ [label[0]]: label[1] });
        counterOf.set(name, counter);
      }
      counter.inc(by);
    },
    get: (name) => counts.get(name) ?? 0,
    observeRequest: requests.observe,
    observePublishLag: (seconds) => {
      publishLag.observe(Math.max(0, seconds));
    },
    readOutboxBacklog: reader(backlogReaders),
    readConsumerLag: reader(lagReaders),
    readRelayBacklog: reader(relayBacklogReaders),
    setRelayPartitions: (count) => {
      relayPartitions.set(count);
    },
    async scrape() {
      return (await registry.metrics()) + (await processMetrics().metrics());
    },
    contentType: registry.contentType,
  };
}

/** prom-client's default buckets, which the request histogram has always had. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface RequestSeries {
  readonly labels: Readonly<Record<'route' | 'method' | 'status', string>>;
  /** Observations per bucket (not cumulative), the last one past the largest bound (+Inf). */
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * The request-duration histogram, observed on every request. prom-client's labelled histogram
 * builds, checks and hashes the label set on every observation, even through a child bound to
 * its labels (a measurable share of a cached read); this one finds the series in two map
 * lookups and adds to plain numbers, and hands prom-client's registry the same series at scrape
 * (`_bucket` with `le`, `_sum`, `_count`), so the exposition is unchanged.
 */
function createRequestHistogram(registry: Registry) {
  const name = `${PREFIX}http_request_duration_seconds`;
  const help = 'HTTP requests by route template, method and status';
  // route -> "method status" -> series
  const byRoute = new Map<string, Map<string, RequestSeries>>();
  const all: RequestSeries[] = [];
  const seriesOf = (route: string, method: string, status: number): RequestSeries => {
    let ofRoute = byRoute.get(route);
    if (ofRoute === undefined) {
      ofRoute = new Map();
      byRoute.set(route, ofRoute);
    }
    const key = method + String(status);
    let series = ofRoute.get(key);
    if (series === undefined) {
      series = {
        labels: { route, method, status: String(status) },
        counts: new Array<number>(REQUEST_BUCKETS.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      ofRoute.set(key, series);
      all.push(series);
    }
    return series;
  };
  const values = () =>
    all.flatMap((series) => {
      let cumulative = 0;
      const buckets = REQUEST_BUCKETS.map((le, i) => {
        cumulative += series.counts[i] ?? 0;
        return { labels: { le, ...series.labels }, value: cumulative, metricName: `${name}_bucket` };
      });
      return [
        ...buckets,
        { labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: `${name}_bucket` },
        { labels: series.labels, value: series.sum, metricName: `${name}_sum` },
        { labels: series.labels, value: series.count, metricName: `${name}_count` },
      ];
    });
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: () => Promise.resolve({ name, help, type: 'histogram', aggregator: 'sum', values: values() }),
    reset: () => {
      byRoute.clear();
      all.length = 0;
    },
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  return {
    observe: (route: string, method: string, status: number, seconds: number): void => {
      const series = seriesOf(route, method, status);
      let i = 0;
      while (i < REQUEST_BUCKETS.length && seconds > (REQUEST_BUCKETS[i] ?? Infinity)) i += 1;
      series.counts[i] = (series.counts[i] ?? 0) + 1;
      series.sum += seconds;
      series.count += 1;
    },
  };
}

/**
 * A gauge read from a dependency that does not answer in time is left out of this scrape
 * (readiness reports the dependency), rather than failing or stalling the whole scrape.
 */
async function bounded<T>(work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      resolve(undefined);
    }, COLLECT_TIMEOUT_MS);
  });
  try {
    // a failure after the deadline must not surface as an unhandled rejection
    return await Promise.race([work.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
