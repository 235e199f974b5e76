/**
 * The arithmetic of the capacity model (scripts/capacity/model.ts feeds it measured figures).
 * Every assumption is a named field of ASSUMPTIONS with the reason for its value.
 */
export interface Measured {
  readonly source: string;
  /** The API process's own CPU per request (its stores are other processes), µs. */
  readonly apiCpuUs: { readonly create: number; readonly cachedRead: number; readonly uncachedRead: number };
  /** The worker's CPU per event projected, µs (measured with SQLite in process: an upper bound). */
  readonly workerCpuUsPerEvent: number;
  /**
   * Store operations one create costs end to end on MongoDB, counted by `npm run costs`
   * (scripts/pipeline/results/op-costs.json): the API's create with an Idempotency-Key, the relay's share of its
   * batch, the projector's share of its batch (alerts, scores, webhook fan-out included).
   */
  readonly storeOpsPerCreate: { readonly writes: number; readonly reads: number; readonly source: string };
  /** Mean BSON bytes per transaction: its head, its version document, a statistics day entry. */
  readonly bytes: {
    readonly head: number;
    readonly version: number;
    readonly dayEntry: number;
    readonly daysPerTransaction: number;
  };
}

export const ASSUMPTIONS = {
  /** Busiest hour over the day's average: mobile money peaks around paydays and evenings. */
  peakFactor: 3,
  /** Updates and deletes per create (corrections are rare). */
  changesPerCreate: 0.05,
  /** Reads by other systems per write (history, analytics, score lookups after each payment). */
  readsPerWrite: 4,
  /** Share of reads answered from the cache (each write invalidates only its own user). */
  cacheHitRatio: 0.8,
  /** CPU to plan for per vCPU, leaving room for bursts, GC and a lost instance's traffic. */
  utilisation: 0.6,
  /** Write operations one MongoDB shard (3-member replica set, NVMe, w: majority) sustains; not measurable here. */
  shardWritesPerSecond: 15_000,
  /** Data one shard should hold before it is split (backups and resyncs stay hours, not days). */
  shardBytes: 2e12,
  /** Index bytes per transaction: _id and user_history on heads, _id and by_transaction on versions. */
  indexBytesPerTransaction: 4 * 45,
  replicas: 3,
  /** List prices of a large cloud, late 2026, rounded: a vCPU-hour, a GB-month of replicated SSD. */
  dollarsPerVcpuHour: 0.04,
  dollarsPerGbMonth: 0.1,
  /** vCPUs per MongoDB replica-set member and per Kafka broker (3 brokers for 10M/day, more per shard at 1B). */
  storeMemberVcpus: 8,
};

type Assumptions = typeof ASSUMPTIONS;

interface Row {
  readonly label: string;
  readonly values: readonly string[];
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function plan(m: Measured, a: Assumptions, perDay: readonly number[] = [1e7, 1e9]): string {
  const rows: Row[] = [];
  const columns = perDay.map((transactions) => {
    const createsPeak = (transactions / 86_400) * a.peakFactor;
    const writesPeak = createsPeak * (1 + a.changesPerCreate);
    const readsPeak = writesPeak * a.readsPerWrite;
    const readCpu = a.cacheHitRatio * m.apiCpuUs.cachedRead + (1 - a.cacheHitRatio) * m.apiCpuUs.uncachedRead;
    const apiVcpus = (writesPeak * m.apiCpuUs.create + readsPeak * readCpu) / 1e6 / a.utilisation;
    const workerVcpus = (writesPeak * m.workerCpuUsPerEvent) / 1e6 / a.utilisation;
    const api = Math.max(2, Math.ceil(apiVcpus));
    const workers = Math.max(2, Math.ceil(workerVcpus));
    const partitions = Math.max(12, 4 * workers);
    const bytesPerTx =
      m.bytes.head +
      m.bytes.version +
      a.indexBytesPerTransaction +
      m.bytes.dayEntry * m.bytes.daysPerTransaction;
    const bytesPerYear = bytesPerTx * transactions * 365;
    const docWritesPeak = writesPeak * m.storeOpsPerCreate.writes;
    const shards = Math.max(
      1,
      Math.ceil(docWritesPeak / a.shardWritesPerSecond),
      Math.ceil(bytesPerYear / a.shardBytes),
    );
    const storeVcpus = shards * a.replicas * a.storeMemberVcpus + 3 * a.storeMemberVcpus;
    const hoursPerMillion = 24 / (transactions / 1e6);
    const computePerMillion = (api + workers + storeVcpus) * a.dollarsPerVcpuHour * hoursPerMillion;
    const storagePerMillionYear = ((bytesPerTx * 1e6 * a.replicas) / 1e9) * a.dollarsPerGbMonth * 12;
    return {
      avg: fmt(transactions / 86_400),
      peak: `${fmt(writesPeak)} writes, ${fmt(readsPeak)} reads`,
      api: `${fmt(api)} (${fmt(apiVcpus, 1)} vCPU of work)`,
      workers: `${fmt(workers)} (${fmt(workerVcpus, 1)} vCPU)`,
      partitions: fmt(partitions),
      shards: `${fmt(shards)} (${fmt(docWritesPeak)} write operations/s at peak)`,
      storage: `${fmt(bytesPerYear / 1e12, 2)} TB (× ${a.replicas} replicas, before compression)`,
      cost: `$${fmt(computePerMillion + storagePerMillionYear, 2)} ($${fmt(computePerMillion, 2)} compute, $${fmt(storagePerMillionYear, 2)} a year of storage)`,
      bytesPerTx,
    };
  });
  const add = (label: string, key: keyof (typeof columns)[number]) =>
    rows.push({ label, values: columns.map((c) => String(c[key])) });
  add('transactions/s, daily average', 'avg');
  add('peak load (busiest hour)', 'peak');
  add('API instances (1 vCPU each, min 2)', 'api');
  add('worker instances (1 vCPU each, min 2)', 'workers');
  add('Kafka partitions of transactions.v1 (4 × workers, min 12)', 'partitions');
  add('MongoDB shards (replica sets of 3)', 'shards');
  add('MongoDB data per year', 'storage');
  add('cost per million transactions', 'cost');
  const header = `| | ${perDay.map((d) => `${fmt(d / 1e6)} million/day`).join(' | ')} |`;
  const rule = `| --- | ${perDay.map(() => '---').join(' | ')} |`;
  const body = rows.map((r) => `| ${r.label} | ${r.values.join(' | ')} |`).join('\n');
  const inputs = [
    `Measured (${m.source}):`,
    `- API CPU per request: create ${fmt(m.apiCpuUs.create)} µs, cached read ${fmt(m.apiCpuUs.cachedRead)} µs, uncached read ${fmt(m.apiCpuUs.uncachedRead)} µs`,
    `- worker CPU per event: ${fmt(m.workerCpuUsPerEvent)} µs (embedded drain, SQLite in process: an upper bound)`,
    `- store operations per create, end to end (${m.storeOpsPerCreate.source}): ${fmt(m.storeOpsPerCreate.writes, 2)} writes, ${fmt(m.storeOpsPerCreate.reads, 2)} reads`,
    `- bytes per transaction: head ${fmt(m.bytes.head)}, version document ${fmt(m.bytes.version)}, indexes ~${fmt(a.indexBytesPerTransaction)}, statistics ${fmt(m.bytes.dayEntry)} per active day × ${fmt(m.bytes.daysPerTransaction, 2)} days per transaction = ${fmt(columns[0]?.bytesPerTx ?? 0)} bytes`,
    '',
    'Assumed: ' +
      Object.entries(a)
        .map(([k, v]) => `${k} = ${String(v)}`)
        .join(', ') +
      ' (see scripts/capacity/plan.ts for the reason of each).',
  ].join('\n');
  return `${header}\n${rule}\n${body}\n\n${inputs}\n`;
}
