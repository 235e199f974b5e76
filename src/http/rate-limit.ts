import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { ANONYMOUS_SERVICE, type Principal } from '../auth/principal.ts';
import { createCircuitBreaker } from '../cache/circuit-breaker.ts';
import { AppError } from '../errors.ts';
import type { RateLimitStore } from '../rate-limit/rate-limit-store.port.ts';
import { addRouteHook } from './route-hooks.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The handler counts the request itself, through `request.admit`, issued together with its
     * cache read (one round trip to Redis for both). Anything the handler leaves uncounted is
     * counted before the answer leaves (error handler, onSend).
     */
    countsWithRead?: boolean;
  }
  interface FastifyRequest {
    /** Counts this request against its client's budget once; rejects with the 429. */
    admit: (() => Promise<void>) | undefined;
    /** Counted already (a flag on the request: a WeakSet of requests costs GC work per request). */
    rateLimitCounted: boolean;
  }
}

export interface RateLimit {
  readonly store: RateLimitStore;
  /** Requests one client may make per window. */
  readonly max: number;
  readonly windowMs: number;
}

/** A store that cannot answer is reported at most this often, not once per request. */
const WARN_EVERY_MS = 5_000;

/**
 * Fixed-window limit per client on the routes of this scope (the /api/v1 routes). Call after
 * the authentication hook: an authenticated request counts against its token's client; one
 * refused before it got that far (a missing or bad token), or any request with auth disabled,
 * counts against its IP. Counted responses carry the RateLimit-* headers (IETF
 * draft-ietf-httpapi-ratelimit-headers); over the limit the answer is 429 with Retry-After.
 * When the store cannot answer in time, the request is served unlimited (fail open), and after a
 * few such failures a circuit breaker stops asking it for a while, so an outage of the store does
 * not add its timeout to every request.
 */
export function limitRequests(api: FastifyInstance, limit: RateLimit): void {
  const policy = `${limit.max};w=${Math.ceil(limit.windowMs / 1000)}`;
  const max = String(limit.max);
  let lastWarnAt = 0;
  const breaker = createCircuitBreaker({ failureThreshold: 3, cooldownMs: 500, maxCooldownMs: 5_000 });

  async function count(request: FastifyRequest, reply: FastifyReply, key: string): Promise<void> {
    request.rateLimitCounted = true;
    if (!breaker.allow()) return;
    let hit;
    try {
      hit = await limit.store.hit(key, limit.windowMs);
      breaker.succeeded();
    } catch (error) {
      breaker.failed();
      if (Date.now() - lastWarnAt >= WARN_EVERY_MS) {
        lastWarnAt = Date.now();
        request.log.warn(
          { err: { message: (error as Error).message }, store: limit.store.name },
          'rate limit store did not answer: serving without a limit',
        );
      }
      return;
    }
    const resetS = Math.max(0, Math.ceil((hit.resetAtMs - Date.now()) / 1000));
    void reply
      .header('ratelimit-limit', max)
      .header('ratelimit-remaining', String(Math.max(0, limit.max - hit.count)))
      .header('ratelimit-reset', String(resetS))
      .header('ratelimit-policy', policy);
    if (hit.count > limit.max) {
      throw new AppError(429, 'rate_limited', 'Too many requests', {
        detail: `more than ${limit.max} requests in ${limit.windowMs} ms; retry in ${Math.max(1, resetS)} s`,
        headers: { 'retry-after': String(Math.max(1, resetS)) },
      });
    }
  }

  const keyOf = (request: FastifyRequest): string => {
    const principal = request.principal as Principal | null;
    return principal === null || principal === ANONYMOUS_SERVICE
      ? `ip:${request.ip}`
      : `client:${principal.clientId}`;
  };

  api.decorateRequest('admit', undefined);
  api.decorateRequest('rateLimitCounted', false);
  // which of the two a route takes is read once, when it is declared (request.routeOptions
  // builds an object on every access); a route's own hook runs after the scope's, so after the
  // authentication that names the client
  const countNow: onRequestHookHandler = (request, reply, done) => {
    count(request, reply, keyOf(request)).then(() => {
      done();
    }, done);
  };
  const countWithRead: onRequestHookHandler = (request, reply, done) => {
    request.admit = () =>
      request.rateLimitCounted ? Promise.resolve() : count(request, reply, keyOf(request));
    done();
  };
  api.addHook('onRoute', (route) => {
    addRouteHook(route, 'onRequest', route.config?.countsWithRead === true ? countWithRead : countNow);
  });

  // a counted-with-read request the handler answered without counting it
  api.addHook('onSend', (request, reply, payload, done) => {
    if (request.rateLimitCounted) {
      done(null, payload);
      return;
    }
    count(request, reply, keyOf(request)).then(() => {
      done(null, payload);
    }, done);
  });

  // Errors before the hook above (authentication, or a handler's before its read) pass here
  // first; rethrown, the app's problem handler answers them, or the 429 instead when this
  // client (an unauthenticated request: this IP) is over its limit.
  api.setErrorHandler(async (error, request, reply) => {
    if (!request.rateLimitCounted) await count(request, reply, keyOf(request));
    throw error;
  });
}
