import type { LoggerOptions } from 'pino';
import { traceFieldsForLog } from './telemetry/log-correlation.ts';
import { tracing } from './telemetry/tracing.ts';

/**
 * Pino options shared by the HTTP server and the worker. Redaction is the last line of defence:
 * code never logs a customer's name or a credential on purpose, and these paths catch accidents.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  'full_name',
  '*.full_name',
  'fullName',
  '*.fullName',
  'body.full_name',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'encryptionKeys',
  '*.encryptionKeys',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'fido-transactions' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    // trace_id and span_id on lines written inside a span, when tracing is on (docs/TRACING.md)
    ...(tracing().enabled ? { mixin: traceFieldsForLog } : {}),
  };
}
