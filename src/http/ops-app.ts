import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import { accessLogOptions } from './access-log.ts';
import { requestIdFor } from './hardening.ts';
import { healthRoutes, type HealthCheck } from './health.routes.ts';
import { registerMetrics, timeRequests } from './metrics.routes.ts';

/**
 * The worker role's listener (METRICS_PORT): liveness, readiness and metrics only, so the
 * container healthcheck and Prometheus reach a worker as they reach an API instance.
 */
export async function buildOpsApp(deps: {
  readonly logger: Logger;
  readonly health: readonly HealthCheck[];
  readonly metrics: Metrics;
}): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    ...accessLogOptions(),
    requestIdHeader: false,
    genReqId: requestIdFor,
  });
  timeRequests(app, deps.metrics);
  registerMetrics(app, deps.metrics);
  await app.register(healthRoutes, { checks: deps.health });
  return app;
}
