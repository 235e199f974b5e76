import { randomUUID } from 'node:crypto';
import { tracing as sdkTracing } from '@opentelemetry/sdk-node';
import { startOtelSdk } from '../../src/telemetry/otel-sdk.ts';
import { installTracing, type SampleRatios, type Tracing } from '../../src/telemetry/tracing.ts';

export type FinishedSpan = sdkTracing.ReadableSpan;

/**
 * The real SDK with its instrumentations, exporting to the SDK's in-memory exporter instead of
 * OTLP. Call it before importing anything it instruments (import the app dynamically after).
 */
export function startInMemoryTracing(
  // every trace by default, reads included
  sampleRatios: SampleRatios = { reads: 1, writes: 1 },
): { exporter: sdkTracing.InMemorySpanExporter; tracing: Tracing } {
  const exporter = new sdkTracing.InMemorySpanExporter();
  const tracing = startOtelSdk({
    role: 'all',
    instanceId: randomUUID(),
    sampleRatios,
    spanProcessors: [new sdkTracing.SimpleSpanProcessor(exporter)],
  });
  installTracing(tracing);
  return { exporter, tracing };
}

/** Every attribute value of a span and of its events, as text (what a trace viewer shows). */
export function attributeTexts(span: FinishedSpan): string[] {
  const all = [span.attributes, ...span.events.map((e) => e.attributes ?? {})];
  return all.flatMap((attributes) => Object.values(attributes).map((v) => JSON.stringify(v)));
}
