import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.ts';

/**
 * Times every request by its route template (never the raw URL: ids would make a series per
 * transaction) and serves the Prometheus exposition at GET /metrics. /metrics has no auth, as
 * Prometheus scrapes from inside the network; the load balancer does not route it from outside.
 * Call on the root instance, before the routes it should time.
 */
export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    // no route matched (404): one series for all of them
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  // hidden from the OpenAPI document: an operations endpoint, not part of the API callers use
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await metrics.scrape();
    return reply.type(metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}
