import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';

/**
 * Graceful stop of the HTTP side. `app.close()` stops accepting connections and waits for the
 * open ones to end; two things are added here:
 * - A request that arrives while closing (on a keep-alive connection already open) is refused
 *   with a problem+json 503 and `Retry-After`, before any work, so the client or the load
 *   balancer sends it to another instance. Fastify's own `return503OnClosing` answers a bare
 *   JSON body instead, so it is turned off in app.ts.
 * - Every response sent while closing carries `Connection: close`. Without it, a keep-alive
 *   connection whose request was in flight stays open after its response until the keep-alive
 *   timeout (72 s), and `app.close()` waits for it past any shutdown deadline.
 */
export function registerDraining(app: FastifyInstance): void {
  const state = { draining: false };
  app.addHook('preClose', (done) => {
    state.draining = true;
    app.log.info('draining: refusing new requests, finishing those in flight');
    done();
  });
  app.addHook('onRequest', (_request, _reply, done) => {
    if (!state.draining) {
      done();
      return;
    }
    done(
      new AppError(503, 'shutting_down', 'Service unavailable', {
        detail: 'this instance is shutting down; retry the request',
        headers: { 'retry-after': '1' },
      }),
    );
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (state.draining) void reply.header('connection', 'close');
    done(null, payload);
  });
}
