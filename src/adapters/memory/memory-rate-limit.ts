import type { RateLimitHit, RateLimitStore } from '../../rate-limit/rate-limit-store.port.ts';

/** How often windows that have ended are dropped, so memory follows the active clients. */
const SWEEP_EVERY_MS = 60_000;

/**
 * Fixed-window counters in this process: exact for a single instance (the embedded default);
 * with several instances each counts only the requests it serves, so use Redis there.
 */
export function createMemoryRateLimitStore(now: () => number = Date.now): RateLimitStore {
  const windows = new Map<string, { count: number; resetAtMs: number }>();
  let nextSweepAtMs = now() + SWEEP_EVERY_MS;

  const sweep = (at: number) => {
    for (const [key, window] of windows) if (window.resetAtMs <= at) windows.delete(key);
  };

  return {
    name: 'memory',
    hit(key, windowMs): Promise<RateLimitHit> {
      const at = now();
      if (at >= nextSweepAtMs) {
        sweep(at);
        nextSweepAtMs = at + SWEEP_EVERY_MS;
      }
      let window = windows.get(key);
      if (window === undefined || window.resetAtMs <= at) {
        window = { count: 0, resetAtMs: at + windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      return Promise.resolve({ count: window.count, resetAtMs: window.resetAtMs });
    },
    close() {
      windows.clear();
      return Promise.resolve();
    },
  };
}
