import type { Logger } from 'pino';
import { createClient, type RedisClientType } from 'redis';

/** How long start-up waits for a first connection before serving without it. */
const CONNECT_WAIT_MS = 1_000;
/** Pending commands beyond this are refused at once instead of queueing behind a slow server. */
const MAX_PENDING_COMMANDS = 1_000;
const WARN_EVERY_MS = 5_000;

export type RedisClient = RedisClientType;

/**
 * A node-redis client for what may degrade when Redis is away (rate limits, the read cache): it
 * never queues commands while disconnected, refuses a backlog, and reconnects in the background
 * with backoff, so an outage makes commands (given a deadline with `withDeadline`) reject fast.
 * Start-up waits at most CONNECT_WAIT_MS: the service serves without Redis rather than not at
 * all. `consequence` says in the throttled warning what the service does meanwhile. The caller
 * owns the client: `client.destroy()` at shutdown (nothing in Redis is worth waiting for then).
 */
export async function openRedisClient(
  url: string,
  logger: Logger,
  consequence: string,
): Promise<RedisClient> {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_PENDING_COMMANDS,
    // every command of ours carries its own, shorter deadline (withDeadline); node-redis's default
    // (5 s) would add an AbortSignal, a timer and a listener to each command of every read
    commandOptions: { timeout: 0 },
    socket: {
      connectTimeout: CONNECT_WAIT_MS,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5_000),
    },
  });
  let lastWarnAt = 0;
  // an outage emits an error per reconnect attempt; one line per WARN_EVERY_MS says enough
  client.on('error', (error: Error) => {
    if (Date.now() - lastWarnAt < WARN_EVERY_MS) return;
    lastWarnAt = Date.now();
    logger.warn({ err: { message: error.message } }, `Redis unavailable: ${consequence}`);
  });
  await firstConnection(client);
  return client;
}

/** Resolves once connected, on the first connection error, or after CONNECT_WAIT_MS. */
async function firstConnection(client: {
  connect(): Promise<unknown>;
  once(event: 'error', listener: () => void): unknown;
  off(event: 'error', listener: () => void): unknown;
}): Promise<void> {
  let settle = () => {};
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const timer = setTimeout(settle, CONNECT_WAIT_MS);
  client.once('error', settle);
  client.connect().then(settle, settle); // failures reach the 'error' listener; it retries
  await settled;
  clearTimeout(timer);
  client.off('error', settle);
}
