/**
 * Coalesces concurrent calls for one key into one computation: while a computation for `key` is
 * in flight, later callers wait for its result instead of starting their own (a cache stampede
 * on a popular key costs one store read per instance, not one per request).
 */
export function createSingleFlight<T>() {
  const inFlight = new Map<string, Promise<T>>();
  return {
    /** `joined` tells whether the caller shared a computation already running. */
    run(key: string, compute: () => Promise<T>): { result: Promise<T>; joined: boolean } {
      const running = inFlight.get(key);
      if (running) return { result: running, joined: true };
      const result = compute().finally(() => inFlight.delete(key));
      inFlight.set(key, result);
      return { result, joined: false };
    },
    has: (key: string) => inFlight.has(key),
  };
}
