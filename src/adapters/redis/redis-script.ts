import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-client.ts';

type ScriptOptions = Parameters<RedisClient['eval']>[1];

/**
 * A Lua script run by its SHA-1 (EVALSHA): Redis then neither receives nor hashes the source on
 * every call. The first call on a server that does not know it yet (NOSCRIPT: a restart, a new
 * replica) sends the source once with EVAL, which also caches it there. The command is issued
 * synchronously, so commands issued in the same turn of the event loop share one write.
 */
export function redisScript(source: string) {
  const sha = createHash('sha1').update(source).digest('hex');
  return (client: RedisClient, options: ScriptOptions): Promise<unknown> =>
    client.evalSha(sha, options).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(source, options);
    });
}
