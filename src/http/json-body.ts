import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

/** Fields whose JSON numbers are kept as their exact source text (money never becomes a float). */
const EXACT_NUMBER_FIELDS = new Set(['transaction_amount']);

type SourceReviver = (key: string, value: unknown, context: { source?: string }) => unknown;

/**
 * Parses JSON bodies with the source-text reviver (ES2025, in Node 24): a number in a money
 * field reaches the domain as the digits the client wrote, e.g. 0.1 stays "0.1".
 */
export function parseJsonExact(text: string): unknown {
  const reviver: SourceReviver = (key, value, context) =>
    typeof value === 'number' && EXACT_NUMBER_FIELDS.has(key) && context.source !== undefined
      ? context.source
      : value;
  return JSON.parse(text, reviver as (key: string, value: unknown) => unknown);
}

export function registerJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/merge-patch+json'],
    { parseAs: 'string' },
    (_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') {
        done(null, undefined);
        return;
      }
      try {
        done(null, parseJsonExact(text));
      } catch (error) {
        // V8's message may quote the body (a customer's name): only the position is echoed
        const at = /at position (\d+)/.exec((error as Error).message)?.[1];
        done(
          new AppError(400, 'malformed_json', 'Malformed JSON', {
            detail: `the request body is not valid JSON${at === undefined ? '' : ` (at position ${at})`}`,
          }),
        );
      }
    },
  );
}
