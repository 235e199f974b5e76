/** An operation outlived its deadline (it may still settle later). */
export class DeadlineExceededError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * Rejects with DeadlineExceededError when `work` has not settled within `ms`. For clients with no
 * per-command timeout of their own (node-redis, a Kafka group's close), or one that can wait
 * forever (the MongoDB driver on a socket closed mid-write): a server that accepts connections but
 * never answers must not hang the caller.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what = 'the operation'): Promise<T> {
  // one promise and one timer: it runs twice on every cached read on Redis (a race of two
  // promises with a finally() allocates several more)
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new DeadlineExceededError(what, ms));
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passed on as it came
        reject(error);
      },
    );
  });
}
