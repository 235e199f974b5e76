import { randomUUID } from 'node:crypto';
import type { CacheEntry, CacheLookup, CacheStore } from '../../cache/cache-store.port.ts';
import { withDeadline } from '../deadline.ts';
import type { RedisClient } from './redis-client.ts';
import { redisScript } from './redis-script.ts';

/** A cache that cannot answer this fast is a miss: computing the answer beats waiting. */
export const CACHE_COMMAND_TIMEOUT_MS = 100;
/** Learning the run id is off the request path; a loaded server gets more time for it. */
const RUN_ID_TIMEOUT_MS = 1_000;
/** An idle user's generation key goes away; a new random one can never match old entries. */
const GENERATION_TTL_MS = 7 * 24 * 60 * 60 * 1_000;
const KEY_PREFIX = 'fido:cache:';

// The hash tag {userId} puts all of a user's keys in one Redis Cluster slot, so one script may
// touch the generation and an entry together.
const generationKey = (userId: string) => `${KEY_PREFIX}{${userId}}:gen`;
const entryKey = (userId: string, key: string) => `${KEY_PREFIX}{${userId}}:e:${key}`;

/**
 * One round trip per read: the user's generation token (created from ARGV[1] if the user has
 * none; the script is atomic, so no other client can slip in between GET and SET) and the entry,
 * sent back only if it was written under this server process (ARGV[3]) and this token, and only
 * if the caller does not already hold an answer under this token (ARGV[4]; then `1` instead).
 */
const READ_SCRIPT = `
local token = redis.call('GET', KEYS[1])
if not token then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  token = ARGV[1]
end
if token == ARGV[4] then return { token, false, 1 } end
local entry = redis.call('GET', KEYS[2])
if entry then
  local prefix = ARGV[3] .. '/' .. token .. '\\n'
  if string.sub(entry, 1, #prefix) ~= prefix then entry = false end
end
return { token, entry }`;
const readScript = redisScript(READ_SCRIPT);

/**
 * The read cache in Redis, shared by every instance, on a client from `openRedisClient` (which
 * never queues while disconnected); every command has a deadline, so an outage is a fast miss.
 *
 * A generation is `<run_id>/<token>`: a random token per user (a counter could repeat after its
 * key is evicted or expires) qualified by the Redis process's run id, which changes on restart
 * and differs on a promoted replica. Entries carry the generation they were written under, so
 * neither a snapshot restored after a restart nor a replica that missed a bump can serve an old
 * entry. Until the run id of the current connection is known, reads and writes reject.
 *
 * The client may be shared: `close` removes this store's listeners and leaves the client open.
 */
export async function openRedisCacheStore(client: RedisClient): Promise<CacheStore> {
  let runId: string | null = null;
  /** Changes on every connection event, so a run id learned on an older connection is dropped. */
  let epoch = 0;
  let learning: Promise<void> | null = null;

  const learnRunId = (): Promise<void> => {
    const at = epoch;
    const attempt = withDeadline(client.info('server'), RUN_ID_TIMEOUT_MS)
      .then((info) => {
        if (epoch === at) runId = /^run_id:([0-9a-f]+)\r?$/m.exec(info)?.[1] ?? null;
      })
      .catch(() => {
        // the next read retries while connected; a new connection brings a 'ready'
      })
      .finally(() => {
        if (learning === attempt) learning = null;
      });
    learning = attempt;
    return attempt;
  };
  const onReady = () => {
    epoch += 1;
    runId = null;
    void learnRunId();
  };
  // synchronous on every sign of a lost connection: no command may use the old run id after it
  const forget = () => {
    epoch += 1;
    runId = null;
    learning = null;
  };
  client.on('ready', onReady);
  client.on('error', forget);
  client.on('end', forget);
  client.on('reconnecting', forget);
  if (client.isReady) await learnRunId();

  const currentRunId = (): string => {
    if (runId !== null) return runId;
    // an 'error' that did not drop the connection brings no 'ready': learn again from here
    if (client.isReady && learning === null) void learnRunId();
    throw new Error('cache: the Redis run id of this connection is not known yet');
  };

  return {
    name: 'redis',
    async read(userId, key, held): Promise<CacheLookup> {
      const server = currentRunId();
      // a generation of another server process can never be current: no token to compare
      const heldToken = held?.startsWith(`${server}/`) === true ? held.slice(server.length + 1) : '';
      const reply = await withDeadline(
        readScript(client, {
          keys: [generationKey(userId), entryKey(userId, key)],
          arguments: [newToken(), String(GENERATION_TTL_MS), server, heldToken],
        }),
        CACHE_COMMAND_TIMEOUT_MS,
      );
      if (!Array.isArray(reply) || typeof reply[0] !== 'string') {
        throw new Error('unexpected reply from the cache read script');
      }
      const generation = `${server}/${reply[0]}`;
      if (reply[2] === 1) return { generation, entry: null, held: true };
      const stored: unknown = reply[1];
      return { generation, entry: typeof stored === 'string' ? decode(stored, generation) : null };
    },
    async write(userId, key, generation, value, ttlMs) {
      // written under another server process: it could never be read, and must not be
      if (!generation.startsWith(`${currentRunId()}/`)) return;
      const stored = `${generation}\n${String(Date.now())}\n${value}`;
      await withDeadline(
        client.set(entryKey(userId, key), stored, { expiration: { type: 'PX', value: ttlMs } }),
        CACHE_COMMAND_TIMEOUT_MS,
      );
    },
    async bump(userIds) {
      if (userIds.length === 0) return;
      // a pipeline, not MULTI: the users' keys live in different cluster slots
      const pipeline = client.multi();
      for (const userId of userIds) {
        pipeline.set(generationKey(userId), newToken(), {
          expiration: { type: 'PX', value: GENERATION_TTL_MS },
        });
      }
      await withDeadline(pipeline.execAsPipeline(), CACHE_COMMAND_TIMEOUT_MS);
    },
    async ping() {
      await withDeadline(client.ping(), CACHE_COMMAND_TIMEOUT_MS);
    },
    close() {
      client.off('ready', onReady);
      client.off('error', forget);
      client.off('end', forget);
      client.off('reconnecting', forget);
      return Promise.resolve();
    },
  };
}

/** 122 random bits from Node's buffered pool: every read sends one, in case the user has none. */
const newToken = () => randomUUID();

/**
 * `<generation>\n<storedAtMs>\n<value>`. The script compared the generation already; comparing
 * again with the exact generation handed to the caller keeps the two from ever disagreeing.
 */
function decode(stored: string, generation: string): CacheEntry | null {
  const afterGeneration = generation.length + 1;
  const end = stored.indexOf('\n', afterGeneration);
  if (!stored.startsWith(`${generation}\n`) || end < 0) return null;
  const storedAtMs = Number(stored.slice(afterGeneration, end));
  if (!Number.isSafeInteger(storedAtMs)) return null;
  return { value: stored.slice(end + 1), storedAtMs };
}
