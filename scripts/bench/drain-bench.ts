import { join } from 'node:path';
import { toWire, topicsFor } from '../../src/events/transaction-events.ts';
import type { EventBus } from '../../src/events/event-bus.port.ts';
import type { TransactionEvent } from '../../src/transactions/transaction.ts';
import { progress } from './progress.ts';
import { startChild } from './processes.ts';

export interface DrainResult {
  readonly events: number;
  readonly users: number;
  /** From spawning the worker to its subscription (config, connections, topics, group). */
  readonly startupS: number;
  /** From the subscription to the report showing every event projected (50 ms resolution). */
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** Worker CPU time (user + system) per event over the drain, in microseconds. */
  readonly cpuUsPerEvent: number;
  readonly drained: boolean;
  /** Pending markers left once the worker stopped (0: every event's statistics are saved). */
  readonly remainingMarkers: number;
}

interface Report {
  readonly at: number;
  readonly projected: number;
  readonly cpuMs: number;
  /** The report sent as soon as the worker subscribed. */
  readonly subscribed: boolean;
}

/** Puts a backlog on the bus as the relay would: keyed by user, oldest first, in batches. */
export async function publishBacklog(
  bus: EventBus,
  topicPrefix: string,
  partitions: number,
  events: readonly TransactionEvent[],
): Promise<void> {
  const topics = topicsFor(topicPrefix);
  await bus.ensureTopics([
    { name: topics.transactions, partitions },
    { name: topics.transactionsDlq, partitions: 1 },
    { name: topics.alerts, partitions },
    { name: topics.creditScores, partitions },
  ]);
  const bar = progress('publish backlog', events.length);
  for (let i = 0; i < events.length; i += 500) {
    const batch = events.slice(i, i + 500);
    await bus.publish(
      batch.map((event) => ({
        topic: topics.transactions,
        key: event.userId,
        value: toWire(event),
        headers: { 'event-type': event.type, 'event-id': event.eventId },
      })),
    );
    bar.tick(batch.length);
  }
  bar.done();
}

/**
 * Starts a worker process on a backlog already on the bus and times it until the worker's own
 * `events_projected_total` reaches the backlog (reported over IPC every 50 ms), bounded by
 * `deadlineS`. The worker does all it does in production per batch: statistics, pending markers,
 * webhook fan-out, alert rules and credit scores.
 */
export async function drainBacklog(options: {
  readonly name: string;
  readonly workDir: string;
  readonly env: Record<string, string>;
  readonly events: number;
  readonly users: number;
  readonly deadlineS: number;
  readonly remainingMarkers: () => Promise<number>;
}): Promise<DrainResult> {
  const reports: Report[] = [];
  const spawnedAt = Date.now();
  const bar = progress(`${options.name} drain`, options.events);
  let shown = 0;
  const worker = await startChild({
    script: 'scripts/bench/worker-child.ts',
    env: options.env,
    logFile: join(options.workDir, `${options.name}-drain-worker.log`),
    readyPath: null,
    onMessage: (message) => {
      if (typeof message !== 'object' || message === null || !('projected' in message)) return;
      const report = message as Report;
      reports.push(report);
      bar.tick(report.projected - shown);
      shown = report.projected;
    },
  });
  const deadline = Date.now() + options.deadlineS * 1000;
  while ((reports.at(-1)?.projected ?? 0) < options.events && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  bar.done();
  await worker.stop();
  const last = reports.at(-1);
  const start = reports.find((r) => r.subscribed);
  if (last === undefined || start === undefined) throw new Error('the worker reported nothing');
  const projected = last.projected - start.projected;
  const seconds = (last.at - start.at) / 1000;
  return {
    events: options.events,
    users: options.users,
    startupS: (start.at - spawnedAt) / 1000,
    seconds,
    eventsPerSecond: seconds > 0 ? projected / seconds : 0,
    cpuUsPerEvent: projected > 0 ? ((last.cpuMs - start.cpuMs) * 1000) / projected : 0,
    drained: last.projected >= options.events,
    remainingMarkers: await options.remainingMarkers(),
  };
}
