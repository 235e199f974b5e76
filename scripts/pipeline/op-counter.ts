import { AsyncLocalStorage } from 'node:async_hooks';
import { DatabaseSync, StatementSync } from 'node:sqlite';
import { MongoClient, type CommandStartedEvent } from 'mongodb';

/**
 * Counts store operations in this process, by who caused them, at no cost to production code:
 * the harness (never the service) switches on the MongoDB driver's command monitoring for every
 * client it connects (`commandStarted`: one per command sent, a bulk write counting once) and
 * wraps node:sqlite's statement methods (one per statement run; BEGIN/COMMIT counted apart as
 * commits). The work is attributed to the bucket of the async context it runs in (`within`).
 */
export interface Bucket {
  reads: number;
  writes: number;
  commits: number;
  readonly commands: Map<string, number>;
}

export const newBucket = (): Bucket => ({ reads: 0, writes: 0, commits: 0, commands: new Map() });

const context = new AsyncLocalStorage<Bucket>();
let installed = false;
/**
 * Where work outside any `within` is counted. Fastify's inject hands a request to the app through
 * a queue created at boot, which loses the caller's async context: requests sent one at a time
 * with nothing else running are counted here instead.
 */
let ambient: Bucket | undefined;

export function setAmbient(bucket: Bucket | undefined): void {
  ambient = bucket;
}

/** Runs `work` with what it sends to the store counted in `bucket` (async continuations included). */
export function within<T>(bucket: Bucket, work: () => T): T {
  return context.run(bucket, work);
}

const MONGO_WRITES = new Set(['insert', 'update', 'delete', 'findAndModify']);
/** Sent by the driver itself (sessions, handshakes), not by an operation of the service. */
const MONGO_HOUSEKEEPING = new Set(['endSessions', 'hello', 'isMaster', 'ismaster', 'saslStart']);

function count(name: string, write: boolean): void {
  const bucket = context.getStore() ?? ambient;
  if (bucket === undefined) return;
  if (write) bucket.writes++;
  else bucket.reads++;
  bucket.commands.set(name, (bucket.commands.get(name) ?? 0) + 1);
}

export function installOperationCounter(): void {
  if (installed) return;
  installed = true;
  const seen = new WeakSet<MongoClient>();
  const onCommand = (event: CommandStartedEvent) => {
    if (MONGO_HOUSEKEEPING.has(event.commandName)) return;
    count(event.commandName, MONGO_WRITES.has(event.commandName));
  };
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the client as `this`
  const connect = MongoClient.prototype.connect;
  MongoClient.prototype.connect = function (this: MongoClient) {
    if (!seen.has(this)) {
      seen.add(this);
      this.options.monitorCommands = true;
      this.on('commandStarted', onCommand);
    }
    return connect.call(this);
  };
  const proto = StatementSync.prototype;
  for (const method of ['run', 'all', 'get', 'iterate'] as const) {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- applied to the statement below
    const original = proto[method] as (...args: unknown[]) => unknown;
    Object.defineProperty(proto, method, {
      configurable: true,
      writable: true,
      value: function (this: StatementSync, ...args: unknown[]) {
        const sql = this.sourceSQL.trimStart();
        const verb = sql.slice(0, sql.search(/\s|$/)).toUpperCase();
        count(verb, /^(INSERT|UPDATE|DELETE|REPLACE)$/.test(verb));
        return original.apply(this, args);
      },
    });
  }
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the database as `this`
  const exec = DatabaseSync.prototype.exec;
  DatabaseSync.prototype.exec = function (this: DatabaseSync, sql: string) {
    if (/^\s*COMMIT/i.test(sql)) {
      const bucket = context.getStore() ?? ambient;
      if (bucket !== undefined) bucket.commits++;
    }
    exec.call(this, sql);
  };
}

export function addInto(target: Bucket, source: Bucket): void {
  target.reads += source.reads;
  target.writes += source.writes;
  target.commits += source.commits;
  for (const [name, n] of source.commands) target.commands.set(name, (target.commands.get(name) ?? 0) + n);
}
