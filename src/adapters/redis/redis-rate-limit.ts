import type { RateLimitHit, RateLimitStore } from '../../rate-limit/rate-limit-store.port.ts';
import { withDeadline } from '../deadline.ts';
import type { RedisClient } from './redis-client.ts';
import { redisScript } from './redis-script.ts';

/** A counter that cannot answer this fast is skipped (fail open) rather than delaying the API. */
export const COMMAND_TIMEOUT_MS = 150;
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
const hitScript = redisScript(HIT_SCRIPT);

/**
 * Fixed-window counters in Redis, shared by every instance, on a client from `openRedisClient`
 * (which never queues while disconnected), with a deadline on every command, so an outage makes
 * `hit` reject fast. The client may be shared with other stores: `close` leaves it to its owner.
 */
export function openRedisRateLimitStore(client: RedisClient): RateLimitStore {
  return {
    name: 'redis',
    async hit(key, windowMs): Promise<RateLimitHit> {
      const reply = await withDeadline(
        hitScript(client, { keys: [KEY_PREFIX + key], arguments: [String(windowMs)] }),
        COMMAND_TIMEOUT_MS,
      );
      if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
        throw new Error('unexpected reply from the rate limit script');
      }
      return { count: reply[0], resetAtMs: Date.now() + reply[1] };
    },
    close() {
      return Promise.resolve();
    },
  };
}
