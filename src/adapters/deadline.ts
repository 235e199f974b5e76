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
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new DeadlineExceededError(what, ms));
    }, ms);
  });
  return Promise.race([work, deadline]).finally(() => {
    clearTimeout(timer);
  });
}
