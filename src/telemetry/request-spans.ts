import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Whether a request is traced at all, decided before any span or context exists. */
export type RequestGate = (method: string, caller: Context) => boolean;

/** Probes and scrapes: every few seconds per instance, they would bury the writes' traces. */
const UNTRACED_PATHS = /^\/(health\/|metrics)/;

/**
 * The server span of every request the gate admits, around the whole Fastify lifecycle, so the
 * store, cache, publish and fetch spans nest under it; it continues the caller's `traceparent`.
 * A request the gate turns away gets no span and no context: the SDK's span machinery and an
 * async context for every read the sampler would then drop cost a cached read about a third of
 * its CPU (docs/TRACING.md, "Cost").
 */
function traceRequests(app: FastifyInstance, admits: RequestGate): void {
  const tracer = trace.getTracer('fido-transactions');
  const open = new WeakMap<FastifyRequest, { span: Span; error?: Error }>();

  app.addHook('onRequest', (request, _reply, done) => {
    if (UNTRACED_PATHS.test(request.url)) {
      done();
      return;
    }
    const caller =
      request.headers.traceparent === undefined
        ? ROOT_CONTEXT
        : propagation.extract(ROOT_CONTEXT, request.headers);
    if (!admits(request.method, caller)) {
      done();
      return;
    }
    const route = request.routeOptions.url;
    const span = tracer.startSpan(
      // method and route template, as trace viewers list server spans; never the raw URL
      route === undefined ? request.method : `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?', 1)[0] ?? request.url,
          ...(route === undefined ? {} : { 'http.route': route }),
        },
      },
      caller,
    );
    open.set(request, { span });
    context.with(trace.setSpan(caller, span), done);
  });

  app.addHook('onError', (request, _reply, error, done) => {
    const entry = open.get(request);
    if (entry !== undefined) entry.error = error;
    done();
  });

  // after the answer is written, so the span covers all of it; a 4xx is the caller's error and
  // leaves the status unset, a 5xx is the server's (OpenTelemetry's HTTP conventions)
  app.addHook('onResponse', (request, reply, done) => {
    const entry = open.get(request);
    if (entry !== undefined) {
      open.delete(request);
      entry.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) {
        if (entry.error !== undefined) entry.span.recordException(entry.error);
        entry.span.setStatus({ code: SpanStatusCode.ERROR, message: entry.error?.message });
      }
      entry.span.end();
    }
    done();
  });
  // no onRequestAbort hook: with one, Fastify adds a 'close' listener to every request, and the
  // requests it holds then outlive the young generation, so every collection copies them: a
  // cached read measured +40% CPU for that listener alone. A client that gives up is seen as the
  // answer the server wrote (docs/TRACING.md, "Cost").
}

/**
 * Traces the requests of every Fastify instance created from now on, from its first hook:
 * Fastify announces each new instance on this diagnostics channel, so the app needs no tracing
 * code of its own. Returns the unsubscribe.
 */
export function traceFastifyRequests(admits: RequestGate): () => void {
  const onInstance = (message: unknown) => {
    traceRequests((message as { fastify: FastifyInstance }).fastify, admits);
  };
  subscribe('fastify.initialization', onInstance);
  return () => unsubscribe('fastify.initialization', onInstance);
}
