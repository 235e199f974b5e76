import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.ts';

/**
 * Tokens already verified, by their exact text, until they expire (their `exp` plus the allowed
 * clock skew) or for at most MAX_AGE_MS: service tokens are reused for hours, and verifying one
 * costs more CPU than the rest of a cached read. Only successes are kept, under the whole token
 * (signature included), so a hit is the same bytes that passed verification. The age bound keeps
 * a key withdrawn from the JWKS effective within a minute.
 */
const MAX_TOKENS = 10_000;
const MAX_AGE_MS = 60_000;

interface Verified {
  readonly principal: Principal;
  readonly validUntilMs: number;
}

export interface VerifiedTokens {
  get(token: string, nowMs: number): Principal | undefined;
  remember(token: string, principal: Principal, expSeconds: number, nowMs: number): void;
}

export function createVerifiedTokens(clockSkewS: number): VerifiedTokens {
  const cache = new LRUCache<string, Verified>({ max: MAX_TOKENS });
  return {
    get(token, nowMs) {
      const entry = cache.get(token);
      if (entry === undefined) return undefined;
      if (nowMs < entry.validUntilMs) return entry.principal;
      cache.delete(token);
      return undefined;
    },
    remember(token, principal, expSeconds, nowMs) {
      const validUntilMs = Math.min((expSeconds + clockSkewS) * 1000, nowMs + MAX_AGE_MS);
      if (validUntilMs > nowMs) cache.set(token, { principal, validUntilMs });
    },
  };
}
