import type { Logger } from 'pino';
import { createClient } from 'redis';
import type { RateLimitHit, RateLimitStore } from '../ports.ts';

/** A counter that cannot answer this fast is skipped (fail open) rather than delaying the API. */
export const COMMAND_TIMEOUT_MS = 150;
/** How long start-up waits for a first connection before serving without it. */
const CONNECT_WAIT_MS = 1_000;
/** Pending counters beyond this are refused at once instead of queueing behind a slow server. */
const MAX_PENDING_COMMANDS = 1_000;
const WARN_EVERY_MS = 5_000;
const KEY_PREFIX = 'fido:rate-limit:';

/**
 * INCR and, for the first request of a window, PEXPIRE, atomically, so every instance shares one
 * window per key whose end Redis keeps. A key that lost its TTL is given one again.
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }`;

/**
 * Fixed-window counters in Redis, shared by every instance. The client never queues commands
 * while disconnected and every command has a deadline, so an outage makes `hit` reject fast;
 * it reconnects in the background with backoff.
 */
export async function openRedisRateLimitStore(url: string, logger: Logger): Promise<RateLimitStore> {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_PENDING_COMMANDS,
    socket: {
      connectTimeout: CONNECT_WAIT_MS,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5_000),
    },
  });
  let lastWarnAt = 0;
  client.on('error', (error: Error) => {
    if (Date.now() - lastWarnAt < WARN_EVERY_MS) return;
    lastWarnAt = Date.now();
    logger.warn({ err: { message: error.message } }, 'rate limit store (Redis) unavailable: not limiting');
  });
  await firstConnection(client);

  return {
    name: 'redis',
    async hit(key, windowMs): Promise<RateLimitHit> {
      const reply = await withDeadline(
        client.eval(HIT_SCRIPT, { keys: [KEY_PREFIX + key], arguments: [String(windowMs)] }),
        COMMAND_TIMEOUT_MS,
      );
      if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
        throw new Error('unexpected reply from the rate limit script');
      }
      return { count: reply[0], resetAtMs: Date.now() + reply[1] };
    },
    close() {
      // counters are not worth waiting for at shutdown; destroy also stops reconnecting
      client.destroy();
      return Promise.resolve();
    },
  };
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

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, deadline]).finally(() => {
    clearTimeout(timer);
  });
}
