import {
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { DependencyUnavailableError } from '../../errors.ts';
import { DeadlineExceededError, withDeadline } from '../deadline.ts';

/**
 * What every MongoDB adapter runs its operations through: a deadline on each, and the one mapping
 * of driver errors that mean "the store cannot serve now" to DependencyUnavailableError (a 503 with
 * Retry-After). Its own file so the adapters that use it and mongo-storage.ts, which builds them,
 * do not import each other.
 */

/** Runs one database operation, turning "the server cannot be reached" into a 503-able error. */
export type Guard = <T>(operation: () => Promise<T>) => Promise<T>;

// Server answers meaning "this node cannot serve now" (stepping down, shutting down, unreachable peer).
const UNAVAILABLE_CODES = new Set([6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436]);

/**
 * FerretDB (the test bed's server) cancels the commands in flight when it shuts down, where MongoDB
 * answers InterruptedAtShutdown. It answers them InternalError (1) with the Go error that stopped
 * them: "context canceled" (SQLite interrupted), Go's database/sql ErrTxDone when the cancellation
 * rolled a write's transaction back just before its commit, or, once its pool is closed, errDBClosed
 * or ErrConnDone. In each case the command was not applied.
 */
const SHUTDOWN_CANCELLATIONS = [
  'context canceled',
  'sql: transaction has already been committed or rolled back',
  'sql: database is closed',
  'sql: connection is already closed',
];
function canceledByShutdown(error: MongoServerError): boolean {
  return error.code === 1 && SHUTDOWN_CANCELLATIONS.some((ending) => error.message.endsWith(ending));
}

/** The driver lets through Node's own error when it writes to a socket the server just closed. */
function isBrokenSocket(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return error instanceof Error && (code === 'EPIPE' || code === 'ECONNRESET');
}

/** Whether a driver error means "the store cannot serve now; retry later" (a 503), not a defect. */
export function meansStoreUnavailable(error: unknown): boolean {
  return (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError || // includes socket timeouts and a cleared connection pool
    // the client is being reconnected after its monitor stalled (mongo-monitor-watchdog.ts)
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoClientClosedError ||
    // the operation's deadline passed: a stalled socket, or a write the driver waits to finish
    // on a socket destroyed under it (docs/FAULTS.md), which no socket timeout ends
    error instanceof DeadlineExceededError ||
    isBrokenSocket(error) ||
    (error instanceof MongoServerError &&
      typeof error.code === 'number' &&
      (UNAVAILABLE_CODES.has(error.code) || canceledByShutdown(error)))
  );
}

/**
 * The one wrapper every operation goes through: none outlives `ms` (it answers 503 then; the
 * driver may still finish it later, as after a socket timeout: the caller retries, idempotently).
 */
export function guardWithin(ms: number): Guard {
  return <T>(operation: () => Promise<T>): Promise<T> =>
    withDeadline(operation(), ms, 'MongoDB operation').catch((error: unknown) => {
      if (meansStoreUnavailable(error)) throw new DependencyUnavailableError('database', error);
      throw error;
    });
}
