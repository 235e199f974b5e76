import type { FastifyInstance } from 'fastify';
import type { Authenticate } from './authenticator.ts';
import { insufficientScope } from './authenticator.ts';
import { ANONYMOUS_SERVICE, hasScope, type Principal, type Scope } from './principal.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route requires; every /api/v1 route declares one. */
    scope?: Scope;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

/**
 * Authenticates every request in this encapsulated scope (the /api/v1 routes) and checks the
 * route's scope before its handler runs. With auth disabled every caller is a service principal.
 */
export function requireAuth(api: FastifyInstance, authenticate: Authenticate | null): void {
  // Fastify wants reference-type decorations initialised per request (in the hook below)
  api.decorateRequest('principal', null as unknown as Principal);
  api.addHook('onRequest', async (request) => {
    request.principal =
      authenticate === null ? ANONYMOUS_SERVICE : await authenticate(request.headers.authorization);
  });
  api.addHook('preValidation', (request, _reply, done) => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined) throw new Error(`route ${request.routeOptions.url ?? ''} declares no scope`);
    done(hasScope(request.principal, scope) ? undefined : insufficientScope(scope));
  });
}
