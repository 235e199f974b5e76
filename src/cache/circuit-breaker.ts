/**
 * A circuit breaker for an optional dependency (the cache). Closed: calls go through and
 * consecutive failures are counted; at `failureThreshold` it opens. Open: callers skip the
 * dependency at once (no waiting on timeouts) until `cooldownMs` has passed; then ONE caller is
 * allowed a trial, which closes the breaker when it succeeds and reopens it (with a longer
 * cooldown, up to `maxCooldownMs`) when it fails.
 */
export interface CircuitBreaker {
  /** Whether a call should be attempted now; while open, true only for the one trial caller. */
  allow(): boolean;
  succeeded(): void;
  failed(): void;
  readonly state: () => 'closed' | 'open' | 'trial';
}

export function createCircuitBreaker(options: {
  failureThreshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
  now?: () => number;
  onChange?: (state: 'closed' | 'open') => void;
}): CircuitBreaker {
  const now = options.now ?? Date.now;
  let state: 'closed' | 'open' | 'trial' = 'closed';
  let failures = 0;
  let cooldownMs = options.cooldownMs;
  let openUntil = 0;

  function open(): void {
    state = 'open';
    openUntil = now() + cooldownMs;
    cooldownMs = Math.min(cooldownMs * 2, options.maxCooldownMs);
    options.onChange?.('open');
  }

  return {
    allow() {
      if (state === 'closed') return true;
      if (state === 'trial' || now() < openUntil) return false;
      state = 'trial';
      return true;
    },
    succeeded() {
      failures = 0;
      if (state === 'closed') return;
      state = 'closed';
      cooldownMs = options.cooldownMs;
      options.onChange?.('closed');
    },
    failed() {
      failures += 1;
      if (state === 'trial' || (state === 'closed' && failures >= options.failureThreshold)) open();
    },
    state: () => state,
  };
}
