import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, HTTPMethods } from 'fastify';
import { AppError } from '../errors.ts';
import { sendProblem } from './problems.ts';

/** Every method Fastify routes; HEAD of a GET route is Fastify's own (exposeHeadRoutes). */
const METHODS: readonly HTTPMethods[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'QUERY',
];

/**
 * Fastify answers 404 for a known path with an unknown method; HTTP says 405 with Allow. Routes
 * are recorded as they are declared, and `addMethodNotAllowedRoutes` (called after every other
 * route is registered) fills the gaps.
 */
export function trackRoutes(app: FastifyInstance): Map<string, Set<string>> {
  const routes = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) return;
    const methods = routes.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    routes.set(route.url, methods);
  });
  return routes;
}

export function addMethodNotAllowedRoutes(app: FastifyInstance, routes: Map<string, Set<string>>): void {
  for (const [url, methods] of [...routes]) {
    const missing = METHODS.filter((m) => !methods.has(m));
    if (missing.length === 0) continue;
    const allow = METHODS.filter((m) => methods.has(m)).join(', ');
    const notAllowed = (reply: FastifyReply) =>
      sendProblem(
        reply,
        new AppError(405, 'method_not_allowed', 'Method not allowed', {
          detail: `allowed: ${allow}`,
          headers: { allow },
        }),
      );
    app.route({
      method: missing,
      url,
      schema: { hide: true },
      // answered before the body is read, so the method alone decides (not a 400/413/415 from it)
      onRequest: async (_request, reply) => notAllowed(reply),
      handler: (_request, reply) => notAllowed(reply),
    });
  }
}
