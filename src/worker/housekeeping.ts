import type { Logger } from 'pino';
import type { Storage } from '../storage.port.ts';
import { every } from './periodic.ts';

/** Rows deleted per statement, and statements per run: a run is bounded, the next one goes on. */
const BATCH = 1_000;
const MAX_BATCHES = 100;

/**
 * Deletes what has outlived its purpose, periodically, in bounded batches: idempotency keys past
 * their expiry (a replay after that creates a new transaction, as SPEC says) and webhook
 * deliveries finished (delivered or dead) longer ago than the retention. Safe on every worker
 * at once: each delete is idempotent.
 */
export function startHousekeeping(deps: {
  storage: Pick<Storage, 'idempotency' | 'webhooks'>;
  logger: Logger;
  clock: () => Date;
  intervalMs: number;
  webhookRetentionMs: number;
}): { runOnce(): Promise<{ idempotencyKeys: number; webhookDeliveries: number }>; stop(): void } {
  const { storage, logger, clock } = deps;

  async function runOnce() {
    const now = clock();
    const idempotencyKeys = await storage.idempotency.sweepExpired(now);
    const before = new Date(now.getTime() - deps.webhookRetentionMs);
    let webhookDeliveries = 0;
    for (let i = 0; i < MAX_BATCHES; i++) {
      const removed = await storage.webhooks.purgeFinished(before, BATCH);
      webhookDeliveries += removed;
      if (removed < BATCH) break;
    }
    if (idempotencyKeys + webhookDeliveries > 0) {
      logger.info({ idempotencyKeys, webhookDeliveries }, 'housekeeping deleted expired rows');
    }
    return { idempotencyKeys, webhookDeliveries };
  }

  return { runOnce, stop: every(deps.intervalMs, runOnce, logger, 'housekeeping run') };
}
