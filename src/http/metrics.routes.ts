import type { FastifyInstance, onResponseHookHandler } from 'fastify';
import { addRouteHook } from './route-hooks.ts';
import type { Metrics } from '../metrics.ts';

/**
 * Times every request by its route template (never the raw URL: ids would make a series per
 * transaction). Call on the root instance before any route: a route declared earlier is not
 * timed.
 */
export function timeRequests(app: FastifyInstance, metrics: Metrics): void {
  // each route is timed by a hook of its own that knows its template (request.routeOptions
  // builds an object on every access); what no route matched (404) is one series
  app.addHook('onRoute', (route) => {
    const url = route.url;
    const timed: onResponseHookHandler = (request, reply, done) => {
      metrics.observeRequest(url, request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    addRouteHook(route, 'onResponse', timed);
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) {
      metrics.observeRequest('unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
    }
    done();
  });
}

/**
 * The Prometheus exposition at GET /metrics. It has no auth, as Prometheus scrapes from inside
 * the network; the load balancer does not route it from outside.
 */
export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  // hidden from the OpenAPI document: an operations endpoint, not part of the API callers use
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await metrics.scrape();
    return reply.type(metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}
