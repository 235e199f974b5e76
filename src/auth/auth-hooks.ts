import type { FastifyInstance, preValidationHookHandler } from 'fastify';
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
  // a token verified before is taken at once (no promise): most requests carry one
  api.addHook('onRequest', (request, _reply, done) => {
    if (authenticate === null) {
      request.principal = ANONYMOUS_SERVICE;
      done();
      return;
    }
    const known = authenticate.remembered(request.headers.authorization);
    if (known !== undefined) {
      request.principal = known;
      done();
      return;
    }
    authenticate(request.headers.authorization).then((principal) => {
      request.principal = principal;
      done();
    }, done);
  });
  // the route's scope is read once, when it is declared (request.routeOptions builds an object
  // on every access)
  api.addHook('onRoute', (route) => {
    const scope = route.config?.scope;
    const check: preValidationHookHandler =
      scope === undefined
        ? (_request, _reply, done) => {
            done(new Error(`route ${route.url} declares no scope`));
          }
        : (request, _reply, done) => {
            done(hasScope(request.principal, scope) ? undefined : insufficientScope(scope));
          };
    // a new array: a GET route's HEAD twin is copied from its options before this runs, and gets
    // its own check from its own onRoute call
    route.preValidation = [...[route.preValidation ?? []].flat(), check];
  });
}
