import type { DatabaseSync } from 'node:sqlite';
import { inWriteTransaction, settle } from './embedded-sqlite.ts';

/**
 * Group commit for the embedded store's request writes. With synchronous=FULL every COMMIT is an
 * fsync on the event loop, so one commit per request caps the writes a process can take. Writes
 * submitted during one turn of the event loop (the requests whose bodies arrived together) are
 * applied in ONE transaction, each inside its own savepoint, and each caller's promise settles
 * only after that transaction is committed: a write that fails (a duplicate id, a lost
 * compare-and-set, a thrown error) is rolled back alone and rejects alone; a failed COMMIT
 * rejects them all. Nothing is acknowledged before it is durable, as before.
 */
export type GroupCommit = <T>(work: () => T) => Promise<T>;

interface Queued {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export function createGroupCommit(db: DatabaseSync): GroupCommit {
  let queue: Queued[] = [];

  function flush(): void {
    const batch = queue;
    queue = [];
    const outcomes: { ok: boolean; value: unknown }[] = [];
    const committed = settle(() => {
      inWriteTransaction(db, () => {
        for (const { work } of batch) {
          db.exec('SAVEPOINT write');
          try {
            outcomes.push({ ok: true, value: work() });
            db.exec('RELEASE write');
          } catch (error) {
            db.exec('ROLLBACK TO write');
            db.exec('RELEASE write');
            outcomes.push({ ok: false, value: error });
          }
        }
      });
    });
    void committed.then(
      () => {
        batch.forEach((queued, i) => {
          const outcome = outcomes[i];
          if (outcome?.ok === true) queued.resolve(outcome.value);
          else queued.reject(outcome?.value);
        });
      },
      (error: unknown) => {
        for (const queued of batch) queued.reject(error);
      },
    );
  }

  return <T>(work: () => T) =>
    new Promise<T>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
}
