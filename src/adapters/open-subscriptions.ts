import type { Subscription } from '../events/event-bus.port.ts';

/**
 * A bus's open subscriptions: each leaves the set when it is closed, and the bus closes those
 * left when it closes itself. Shared by the embedded bus and Kafka.
 */
export function openSubscriptions() {
  const open = new Set<Subscription>();
  return {
    /** `subscription` as the bus hands it out: closing it also forgets it. */
    track(subscription: Subscription): Subscription {
      open.add(subscription);
      return {
        assignments: () => subscription.assignments(),
        lag: () => subscription.lag(),
        async close() {
          open.delete(subscription);
          await subscription.close();
        },
      };
    },
    async closeAll(): Promise<void> {
      await Promise.all([...open].map((s) => s.close()));
      open.clear();
    },
  };
}
