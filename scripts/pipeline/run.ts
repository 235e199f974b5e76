import { randomInt } from 'node:crypto';
import { openMongoStorage } from '../../src/adapters/mongo/mongo-storage.ts';
import { consumption, distinctEvents, reached } from '../faults/kafka-offsets.ts';
import { createClient } from '../stack/client.ts';
import type { Servers } from '../stack/servers.ts';
import { sendCreate, type Known } from '../stack/load.ts';
import { analyticsMismatches, statsDifferences } from '../stack/reconcile.ts';
import { poll } from '../stack/wait.ts';
import { observeLag, percentile } from './lag.ts';
import { relayOperations, sumRelayOperations, type RelayOperations } from './relay-metrics.ts';
import { startTopology } from './topology.ts';

/** One run of `npm run pipeline`: its figures, and whether anything acknowledged was lost. */
export interface RunResult {
  readonly workers: number;
  readonly killed: boolean;
  readonly events: number;
  readonly messages: number;
  readonly distinct: number;
  /** Store operations the relays counted (their metric), or null when they expose none. */
  readonly relayOperations: RelayOperations | null;
  readonly elapsedS: number;
  readonly eventsPerSecond: number;
  readonly lagMs: { readonly p50: number; readonly p99: number };
  readonly unavailable503: number;
  readonly failed: number;
  /** Every event on the topic, consumed by the group, projected, and every user's statistics exact. */
  readonly lost: readonly string[];
}

export interface RunOptions {
  readonly servers: Servers;
  readonly workers: number;
  readonly partitions: number;
  readonly creates: number;
  readonly clients: number;
  readonly users: number;
  /** SIGKILL worker-1 once half the creates are acknowledged. */
  readonly kill: boolean;
  readonly env?: Readonly<Record<string, string>>;
  readonly say: (line: string) => void;
}

const REQUEST_DEADLINE_MS = 45_000;
const LOAD_TIMEOUT_MS = 300_000;
const SETTLE_TIMEOUT_MS = 180_000;

export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const { say } = options;
  const topology = await startTopology({ ...options });
  let ok = false;
  try {
    const client = createClient(topology.apiUrl, topology.token, REQUEST_DEADLINE_MS);
    const users = topology.users(options.users);
    const lag = await observeLag(options.servers.mongodbUrl, topology.database);
    const model = new Map<string, Known>();
    const relayOpsOfKilled = { value: { found: 0, idle: 0 } as RelayOperations | null };
    let sent = 0;
    const started = performance.now();
    const deadline = Date.now() + LOAD_TIMEOUT_MS;
    say(`${options.creates} creates with Idempotency-Keys from ${options.clients} clients`);
    const lane = async (lanes: readonly string[]) => {
      while (sent < options.creates && Date.now() < deadline) {
        sent++;
        const userId = lanes[randomInt(lanes.length)] ?? '';
        const { known, answer } = await sendCreate(client, userId);
        const id = (answer?.body as { id?: string } | undefined)?.id;
        if (id === undefined) continue;
        lag.acknowledged(id);
        model.set(id, known);
        const victim = topology.workers[0];
        if (options.kill && victim !== undefined && model.size === Math.floor(options.creates / 2)) {
          relayOpsOfKilled.value = await relayOperations(victim.metricsUrl);
          victim.service.kill('SIGKILL');
          say(`SIGKILL ${victim.service.name} after ${model.size} acknowledged creates`);
        }
      }
    };
    const lanes = Array.from({ length: options.clients }, (_, i) =>
      users.filter((_, j) => j % options.clients === i),
    );
    await Promise.all(lanes.map(lane));
    say(`${model.size} creates acknowledged; waiting until every event is projected`);
    const settled = await lag.settled(SETTLE_TIMEOUT_MS);
    const elapsedS = (performance.now() - started) / 1000;
    const { lags, unresolved } = await lag.stop();

    const lost: string[] = [];
    if (!settled) lost.push(`${unresolved} acknowledged writes not projected within ${SETTLE_TIMEOUT_MS} ms`);
    const topic = topology.topics.transactions;
    const { kafkaBrokers } = options.servers;
    // the group commits after projecting: every message consumed, the killed member's included
    let state = await consumption(kafkaBrokers, topic, options.partitions, [topology.groupId]);
    const consumed = await poll(
      async () => {
        state = await consumption(kafkaBrokers, topic, options.partitions, [topology.groupId]);
        return reached(state, topology.groupId, state.ends);
      },
      60_000,
      'the group consumed every message',
    ).then(
      () => true,
      () => false,
    );
    if (!consumed) lost.push('the consumer group did not commit every message');
    const distinct = await distinctEvents(kafkaBrokers, topic, state.ends);
    if (distinct !== model.size)
      lost.push(`${distinct} distinct events on the topic for ${model.size} creates`);
    const storage = await openMongoStorage({ url: options.servers.mongodbUrl, database: topology.database });
    try {
      const differences = await statsDifferences(storage, users);
      if (differences.days > 0) lost.push(`${differences.days} statistics days differ from a recomputation`);
    } finally {
      await storage.close();
    }
    const mismatches = await analyticsMismatches(client, model, users);
    if (mismatches.length > 0) lost.push(`analytics differ for ${mismatches.length} users`);
    if (client.stats.failed.length > 0) lost.push(`${client.stats.failed.length} creates never acknowledged`);

    const live = topology.workers.filter((w, i) => !(options.kill && i === 0) && w.metricsUrl !== '');
    const counted = await Promise.all(live.map((w) => relayOperations(w.metricsUrl)));
    const result: RunResult = {
      workers: options.workers,
      killed: options.kill,
      events: model.size,
      messages: state.produced,
      distinct,
      relayOperations: sumRelayOperations([...counted, relayOpsOfKilled.value]),
      elapsedS,
      eventsPerSecond: model.size / elapsedS,
      lagMs: { p50: percentile(lags, 50), p99: percentile(lags, 99) },
      unavailable503: client.stats.retried.unavailable_503 ?? 0,
      failed: client.stats.failed.length,
      lost,
    };
    ok = lost.length === 0;
    return result;
  } finally {
    await topology.close(!ok);
  }
}
