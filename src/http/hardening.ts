import cors from '@fastify/cors';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { randomUUID } from 'node:crypto';
import { IncomingMessage, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { AppError } from '../errors.ts';
import { sendProblem, TYPE_BASE } from './problems.ts';

/** Request line plus headers; past it Node refuses the request (431) before the app sees it. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** No route needs more (ids, cursors, dates); longer URLs are refused with 414. */
export const MAX_URL_LENGTH = 4096;

/** API responses are data: nothing may load, frame or run them (OWASP REST Security). */
const API_CSP = {
  useDefaults: false,
  directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
};

/**
 * The Swagger UI's policy at /docs (set by @fastify/swagger-ui's staticCSP over the API one):
 * its default minus upgrade-insecure-requests, which would break the docs over plain local HTTP.
 */
export const DOCS_CSP =
  "default-src 'self'; base-uri 'self'; font-src 'self' https: data:; frame-ancestors 'self'; " +
  "img-src 'self' data: validator.swagger.io; object-src 'none'; script-src 'self'; " +
  "script-src-attr 'none'; style-src 'self' https:";

/** What helmet sets on the API's responses. */
const API_HELMET: HelmetOptions = { contentSecurityPolicy: API_CSP, frameguard: { action: 'deny' } };

/**
 * The headers helmet's middleware sets with these options, computed once. Every value is static
 * here (no CSP nonces); @fastify/helmet built the middleware again for each request, about half a
 * cached read's CPU, most of it garbage to collect (docs/BENCHMARKS.md).
 */
function helmetHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a map of header names
      delete headers[name.toLowerCase()];
    },
  };
  const state = { settled: false };
  const request = new IncomingMessage(new Socket());
  helmet(options)(request, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error !== undefined) throw new Error('helmet refused its options', { cause: error });
    state.settled = true;
  });
  if (!state.settled) throw new Error('helmet did not set its headers synchronously');
  return headers;
}

/**
 * Security headers on every response (helmet's, see helmetHeaders), CORS only for the configured
 * origins (none: no CORS headers at all, so browsers on other origins are refused), and a bound
 * on URL length. Call on the root instance before any route. A plugin may set its own CSP over
 * the API one (the docs, the console).
 */
export async function registerHardening(app: FastifyInstance, corsOrigins: readonly string[]): Promise<void> {
  const security = helmetHeaders(API_HELMET);
  // Among the reply's headers, where any header set later wins (a plugin's own CSP) and which an
  // error answer keeps. Not on the raw response as helmet sets them: a header there makes Node
  // take every other header of the reply through setHeader() again when the head is written.
  // Before CORS, which answers a preflight from its own hook; the URL bound is checked in the
  // same hook (one hook less on every request), so a refused URL carries these headers too.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.headers(security);
    done(
      request.url.length > MAX_URL_LENGTH
        ? new AppError(414, 'uri_too_long', 'URI too long', {
            detail: `the URL is longer than ${MAX_URL_LENGTH} characters`,
          })
        : undefined,
    );
  });
  if (corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...corsOrigins],
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: [
        'Authorization',
        'Content-Type',
        'Idempotency-Key',
        'If-Match',
        'If-None-Match',
        'X-Request-Id',
      ],
      exposedHeaders: [
        'ETag',
        'Location',
        'Retry-After',
        'Idempotent-Replayed',
        'X-Request-Id',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'RateLimit-Policy',
      ],
      maxAge: 600,
    });
  }
}

/** Responses of this scope carry personal data: no browser or proxy may keep them. */
export function preventCaching(api: FastifyInstance): void {
  // set as the request arrives (an error answer keeps it; no route of the scope sets its own):
  // an onRequest hook costs less than an onSend hook, which passes the payload along
  api.addHook('onRequest', (_request, reply, done) => {
    void reply.header('cache-control', 'no-store');
    done();
  });
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's (or load balancer's) X-Request-Id when it is a sane token; otherwise a new UUID. */
export function requestIdFor(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** For answers Node or the router give before helmet's hook can run. */
const RAW_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * What Fastify's router refuses before any hook runs (a path segment over maxParamLength, bad
 * percent-encoding): a problem like every other error, not Fastify's bare JSON.
 */
export function frameworkErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  void reply.headers({ ...RAW_RESPONSE_HEADERS, 'x-request-id': request.id });
  void sendProblem(
    reply,
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new AppError(414, 'uri_too_long', 'URI too long', { detail: 'a path segment is too long' })
      : new AppError(400, 'bad_url', 'Bad request', { detail: 'the URL is not valid' }),
  );
}

const CLIENT_ERRORS: Readonly<Record<string, [number, string, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'Request header fields too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'Request timeout'],
};

/**
 * Requests Node refuses before Fastify sees them (URL and headers over MAX_HEADER_BYTES, a
 * malformed request line, a request too slow to arrive) get a problem+json answer too.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, title] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'bad_request', 'Bad request'];
  const body = JSON.stringify({ type: `${TYPE_BASE}${code}`, title, status, code });
  if (socket.writable) {
    const headers = Object.entries(RAW_RESPONSE_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n${headers.join('')}connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
