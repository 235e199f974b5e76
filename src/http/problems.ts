import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, IntegrityError, validationFailed, type FieldError } from '../errors.ts';
import { SchemaValidationError } from './validation.ts';

/** RFC 9457 body. `type` is a stable URI per error code so clients can branch on it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  errors?: readonly FieldError[];
}

export const TYPE_BASE = 'https://errors.fido.example/';

/** Fastify's own errors we answer with a specific status and a stable code. */
const FASTIFY_ERRORS: Readonly<Record<string, [number, string, string]>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'Unsupported media type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length', 'Bad request'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large', 'Payload too large'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'empty_body', 'Bad request'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'malformed_json', 'Malformed JSON'],
};

export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  const problem: Problem = {
    type: `${TYPE_BASE}${error.code}`,
    title: error.title,
    status: error.status,
    code: error.code,
    instance: reply.request.url.split('?')[0] ?? '/',
  };
  if (error.detail !== undefined) problem.detail = error.detail;
  if (error.errors !== undefined) problem.errors = error.errors;
  return reply.status(error.status).headers(error.headers).type('application/problem+json').send(problem);
}

/** Maps anything thrown to a problem; 5xx bodies never carry internals. */
export function toAppError(error: unknown, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof SchemaValidationError) return validationFailed(error.fieldErrors);
  const fastifyError = error as Partial<FastifyError> & { validation?: unknown };
  if (!(error instanceof SchemaValidationError) && fastifyError.validation !== undefined) {
    return validationFailed([{ pointer: '', message: fastifyError.message ?? 'is invalid' }]);
  }
  const known = fastifyError.code === undefined ? undefined : FASTIFY_ERRORS[fastifyError.code];
  if (known !== undefined) {
    const [status, code, title] = known;
    return new AppError(status, code, title, { detail: fastifyError.message });
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(status, 'bad_request', 'Bad request', { detail: fastifyError.message });
  }
  if (error instanceof IntegrityError) {
    request.log.error(
      { err: { type: error.name, message: error.message } },
      'stored data failed integrity check',
    );
  } else {
    request.log.error({ err: error }, 'unhandled error');
  }
  return new AppError(500, 'internal_error', 'Internal server error');
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error, request);
    if (appError.status === 503) request.log.warn({ err: appError.cause }, appError.detail);
    return sendProblem(reply, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new AppError(404, 'route_not_found', 'Not found', {
        detail: `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
      }),
    ),
  );
}
