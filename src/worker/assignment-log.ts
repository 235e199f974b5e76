import type { Logger } from 'pino';
import type { Subscription } from '../events/event-bus.port.ts';

const CHECK_EVERY_MS = 500;

/**
 * Logs the partitions this worker owns whenever they change (a rebalance: a worker joined, left
 * or died). Operators see who consumes what; the scale-out test reads these lines to check that
 * a surviving worker took over a killed one's partitions. Polled, so it works on every bus.
 */
export function logAssignments(subscription: Subscription, logger: Logger): { stop(): void } {
  let last = '';
  const check = () => {
    const partitions = subscription
      .assignments()
      .map(({ topic, partition }) => `${topic}:${partition}`)
      .sort();
    const now = partitions.join(',');
    if (now === last) return;
    last = now;
    logger.info({ partitions, count: partitions.length }, 'partitions assigned');
  };
  check();
  const timer = setInterval(check, CHECK_EVERY_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
    },
  };
}
