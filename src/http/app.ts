import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { alertsRoutes } from '../alerts/alerts.routes.ts';
import { analyticsRoutes } from '../analytics/analytics.routes.ts';
import { consoleRoutes } from '../console/console.routes.ts';
import { creditScoreRoutes } from '../scores/credit-score.routes.ts';
import { requireAuth } from '../auth/auth-hooks.ts';
import type { Deps } from '../deps.ts';
import { transactionRoutes } from '../transactions/transactions.routes.ts';
import { webhookRoutes } from '../webhooks/webhooks.routes.ts';
import {
  clientErrorHandler,
  DOCS_CSP,
  frameworkErrorHandler,
  MAX_HEADER_BYTES,
  preventCaching,
  registerHardening,
  requestIdFor,
} from './hardening.ts';
import { accessLogOptions } from './access-log.ts';
import { healthRoutes } from './health.routes.ts';
import { registerDraining } from './draining.ts';
import { registerMetrics, timeRequests } from './metrics.routes.ts';
import { registerJsonBodies } from './json-body.ts';
import { addMethodNotAllowedRoutes, trackRoutes } from './method-not-allowed.ts';
import { openApiDocument } from './openapi.ts';
import { registerProblemHandlers } from './problems.ts';
import { limitRequests } from './rate-limit.ts';
import { validatorCompiler } from './validation.ts';

/** What the HTTP entry point uses of the composition root's dependencies. */
export type AppDeps = Pick<
  Deps,
  | 'logger'
  | 'health'
  | 'metrics'
  | 'config'
  | 'transactions'
  | 'history'
  | 'analytics'
  | 'webhooks'
  | 'creditScores'
  | 'alerts'
  | 'authenticate'
  | 'rateLimit'
  | 'corsOrigins'
  | 'consoleLogin'
>;

/** SPEC: bodies over 16 KiB are refused with 413. */
export const BODY_LIMIT_BYTES = 16 * 1024;

/** Builds the HTTP app without listening: main.ts listens, tests use inject() or port 0. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // typed as the base logger so the instance keeps Fastify's default generics
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    ...accessLogOptions(),
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: false, // read by requestIdFor, which accepts only a sane X-Request-Id
    genReqId: requestIdFor,
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    // src/http/draining.ts refuses requests that arrive while closing, as problem+json
    return503OnClosing: false,
    // close() also ends keep-alive connections that are idle (the default on Node 24; stated
    // here because graceful shutdown depends on it)
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 256 },
    // behind N proxies, request.ip (rate limits by IP, logs) is the address the outermost one
    // saw; entries a client wrote into X-Forwarded-For itself are never trusted. With none, the
    // socket's address, read as is (a trust function makes Fastify parse X-Forwarded-For on every
    // read of request.ip, for the access log, only to trust none of it)
    trustProxy:
      deps.config.trustProxyHops === 0
        ? false
        : (_address: string, hop: number) => hop < deps.config.trustProxyHops,
  });

  app.setValidatorCompiler(validatorCompiler);
  registerJsonBodies(app);
  registerProblemHandlers(app);
  // first, so that every answer carries it, the draining 503 included
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  registerDraining(app);
  // before any route: each route is timed by a hook added as it is declared
  timeRequests(app, deps.metrics);

  await registerHardening(app, deps.corsOrigins);
  await app.register(swagger, { openapi: openApiDocument() });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  const routes = trackRoutes(app);
  registerMetrics(app, deps.metrics);
  await app.register(healthRoutes, { checks: deps.health });
  await app.register(consoleRoutes, { login: deps.consoleLogin });
  await app.register(
    async (api) => {
      // first: a request refused by authentication carries it too
      preventCaching(api);
      requireAuth(api, deps.authenticate);
      limitRequests(api, deps.rateLimit);
      await api.register(transactionRoutes, { service: deps.transactions, history: deps.history });
      await api.register(analyticsRoutes, { service: deps.analytics });
      await api.register(webhookRoutes, { service: deps.webhooks });
      await api.register(creditScoreRoutes, { service: deps.creditScores });
      await api.register(alertsRoutes, { service: deps.alerts });
    },
    { prefix: '/api/v1' },
  );
  addMethodNotAllowedRoutes(app, routes);
  return app;
}
