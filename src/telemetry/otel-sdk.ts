import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK, resources, type tracing as sdkTracing } from '@opentelemetry/sdk-node';
import { createOtelTracing } from './otel-tracing.ts';
import { traceFastifyRequests } from './request-spans.ts';
import { writesFirstRequestGate, writesFirstSampler } from './writes-first-sampler.ts';
import type { SampleRatios, Tracing } from './tracing.ts';

export interface SdkOptions {
  readonly role: string;
  readonly instanceId: string;
  /** The shares of reads and of writes recorded (unless OTEL_TRACES_SAMPLER is set). */
  readonly sampleRatios: SampleRatios;
  /** Tests hand an in-memory exporter's processor; otherwise OTEL_TRACES_EXPORTER decides (OTLP). */
  readonly spanProcessors?: sdkTracing.SpanProcessor[];
}

/**
 * The OpenTelemetry SDK for Node, configured by the standard OTEL_* variables (endpoint, protocol,
 * headers, OTEL_TRACES_SAMPLER, batch sizes), with the instrumentations this service's libraries
 * have (the MongoDB driver, node-redis, and fetch: webhook sends, JWKS fetches) and the server
 * span of src/telemetry/request-spans.ts. The driver and node-redis are CommonJS packages loaded
 * through require(), so the require hook suffices, and Fastify and fetch need no module hook at
 * all: no ESM loader hook is registered (docs/TRACING.md).
 */
export function startOtelSdk(options: SdkOptions): Tracing {
  // Prometheus (/metrics) and pino (stdout) carry metrics and logs; the SDK would otherwise
  // export both over OTLP by default
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  // the standard OTEL_TRACES_SAMPLER, when set, replaces the service's own default, and then every
  // request gets a span for it to decide on
  const standardSampler = Boolean(process.env.OTEL_TRACES_SAMPLER);
  const sdk = new NodeSDK({
    // detected attributes (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) override these
    resource: resources.defaultResource().merge(
      resources.resourceFromAttributes({
        'service.name': 'fido-transactions',
        'service.instance.id': options.instanceId,
        'fido.role': options.role,
      }),
    ),
    ...(options.spanProcessors === undefined ? {} : { spanProcessors: options.spanProcessors }),
    ...(standardSampler ? {} : { sampler: writesFirstSampler(options.sampleRatios.reads) }),
    instrumentations: [
      // values in a command are reported as '?' (enhancedDatabaseReporting stays off); commands
      // outside any request or event (polls, sweeps) make no span (requireParentSpan, its default)
      new MongoDBInstrumentation(),
      // the command only: a SET or EVAL argument is a cached answer or a counter's key
      // requireParentSpan: no one-span traces of commands run outside any request or event
      new RedisInstrumentation({ dbStatementSerializer: (command) => command, requireParentSpan: true }),
      new UndiciInstrumentation(),
    ],
  });
  sdk.start();
  const stopTracingRequests = traceFastifyRequests(
    standardSampler ? () => true : writesFirstRequestGate(options.sampleRatios),
  );
  return createOtelTracing(async () => {
    stopTracingRequests();
    await sdk.shutdown();
  });
}
