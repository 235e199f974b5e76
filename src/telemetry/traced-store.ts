import type { Storage } from '../storage.port.ts';
import type { TransactionStore } from '../transactions/transaction-store.port.ts';
import type { TransactionWrite } from '../transactions/transaction.ts';
import { eventAttributes, tracing } from './tracing.ts';

/**
 * The store with a span around each write (the record, its audit line and its outbox event in one
 * atomic step), so a trace shows the write on every store: the MongoDB driver's commands nest
 * under it, and the embedded SQLite store, which has no instrumentation, still appears. The
 * store itself when tracing is off.
 */
export function traceStorage<S extends Storage>(storage: S): S {
  if (!tracing().enabled) return storage;
  const store = storage.transactions;
  const write = <T>(operation: string, recorded: TransactionWrite, work: () => Promise<T>) =>
    tracing().inSpan(
      `${operation} transaction`,
      {
        attributes: {
          'db.system.name': storage.name === 'embedded' ? 'sqlite' : storage.name,
          'db.operation.name': operation,
          ...eventAttributes(recorded.event),
        },
      },
      work,
    );
  const transactions: TransactionStore = {
    insert: (recorded) => write('insert', recorded, () => store.insert(recorded)),
    replace: (expectedVersion, recorded) =>
      write('replace', recorded, () => store.replace(expectedVersion, recorded)),
    get: (id) => store.get(id),
    listByUser: (query) => store.listByUser(query),
    auditTrail: (id) => store.auditTrail(id),
  };
  return { ...storage, transactions };
}
