import { randomUUID } from 'node:crypto';
import { installTracing, tracing, type SampleRatios, type Tracing } from './tracing.ts';

export interface TracingOptions {
  /** api, worker or all: a resource attribute, so a trace shows which role did each part. */
  readonly role: string;
  /** The shares of reads and of writes recorded (unless OTEL_TRACES_SAMPLER is set). */
  readonly sampleRatios: SampleRatios;
  /** Distinguishes processes of one role; a fresh id per process unless OTEL_RESOURCE_ATTRIBUTES sets one. */
  readonly instanceId?: string;
}

/**
 * Starts the OpenTelemetry SDK when OTEL_EXPORTER_OTLP_ENDPOINT (or its traces-only variant) is
 * set, and installs it behind tracing.ts. Call it before importing the modules it instruments
 * (the MongoDB driver, node-redis, node:http via Fastify): their hooks apply to modules loaded
 * afterwards. Off, it imports nothing and the no-op stays.
 */
export async function startTracingFromEnv(
  options: TracingOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Tracing> {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === undefined || endpoint === '' || env.OTEL_SDK_DISABLED === 'true') return tracing();
  const { startOtelSdk } = await import('./otel-sdk.ts');
  installTracing(startOtelSdk({ ...options, instanceId: options.instanceId ?? randomUUID() }));
  return tracing();
}
