import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { readRequestOf, sendAnswer } from '../http/json-text.ts';
import { matchesTag } from '../cache/read-cache.ts';
import { SchemaValidationError } from '../http/validation.ts';
import type { BodyInput } from './transaction-input.ts';
import type { HistoryService } from './history.service.ts';
import type { IfMatch, TransactionService } from './transactions.service.ts';
import {
  CreateBody,
  HistoryQuery,
  HistoryResponse,
  IdParams,
  notModified,
  PatchBody,
  problemResponses,
  ReplaceBody,
  TransactionResponse,
  UserParams,
  VersionsResponse,
} from './transactions.schemas.ts';

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7E][\\x20-\\x7E]*$',
      description: '1-255 printable characters',
    }),
  ),
});
const IfMatchHeaders = Type.Object({ 'if-match': Type.Optional(Type.String({ maxLength: 64 })) });

/** The body with the schema's complaints, so semantic checks can add theirs to the same 422. */
function bodyInput(request: FastifyRequest): BodyInput {
  const error = request.validationError;
  if (error !== undefined && !(error instanceof SchemaValidationError)) throw error;
  return { body: request.body, schemaErrors: error?.fieldErrors ?? [] };
}

/** `"3"`, `W/"3"` or `*`; anything else can match no version. */
function ifMatchOf(header: string | undefined): IfMatch {
  if (header === undefined) return undefined;
  if (header.trim() === '*') return '*';
  const match = /^\s*(?:W\/)?"(\d{1,9})"\s*$/.exec(header);
  return match?.[1] === undefined ? -1 : Number(match[1]);
}

function sendTransaction(reply: FastifyReply, status: number, body: TransactionResponse) {
  return reply.status(status).header('etag', `"${body.version}"`).send(body);
}

export const transactionRoutes: FastifyPluginAsyncTypebox<{
  service: TransactionService;
  history: HistoryService;
}> = async (app, { service, history }) => {
  app.post(
    '/transactions',
    {
      config: { scope: 'transactions:write' },
      attachValidation: true,
      schema: {
        tags: ['transactions'],
        summary: 'Record a transaction',
        headers: IdempotencyHeaders,
        body: CreateBody,
        response: { 201: TransactionResponse, ...problemResponses(400, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const result = await service.create(
        bodyInput(request),
        request.principal,
        request.headers['idempotency-key'],
      );
      if (result.replayed) void reply.header('idempotent-replayed', 'true');
      void reply.header('location', `/api/v1/transactions/${result.body.id}`);
      return sendTransaction(reply, result.status, result.body);
    },
  );

  app.get(
    '/transactions/:id',
    {
      config: { scope: 'transactions:read' },
      schema: {
        tags: ['transactions'],
        summary: 'Read a transaction',
        params: IdParams,
        response: { 200: TransactionResponse, ...notModified, ...problemResponses(404, 422) },
      },
    },
    async (request, reply) => {
      const found = await service.get(request.params.id, request.principal);
      if (!matchesTag(request.headers['if-none-match'], `"${found.version}"`)) {
        return sendTransaction(reply, 200, found);
      }
      return reply.code(304).header('etag', `"${found.version}"`).send(null);
    },
  );

  // PUT replaces the mutable fields, PATCH merges some (RFC 7396); both answer the new version
  const updates = [
    { method: 'PUT', body: ReplaceBody, summary: 'Replace the mutable fields of a transaction' },
    {
      method: 'PATCH',
      body: PatchBody,
      summary: 'Update some fields of a transaction (JSON merge patch)',
    },
  ] as const;
  for (const { method, body, summary } of updates) {
    app.route({
      method,
      url: '/transactions/:id',
      config: { scope: 'transactions:write' },
      attachValidation: true,
      schema: {
        tags: ['transactions'],
        summary,
        params: IdParams,
        headers: IfMatchHeaders,
        body,
        response: { 200: TransactionResponse, ...problemResponses(400, 404, 409, 412, 413, 415, 422) },
      },
      handler: async (request, reply) => {
        const ifMatch = ifMatchOf(request.headers['if-match']);
        const args = [request.params.id, bodyInput(request), ifMatch, request.principal] as const;
        const updated = method === 'PUT' ? service.replace(...args) : service.patch(...args);
        return sendTransaction(reply, 200, await updated);
      },
    });
  }

  app.delete(
    '/transactions/:id',
    {
      config: { scope: 'transactions:write' },
      schema: {
        tags: ['transactions'],
        summary: 'Delete a transaction',
        params: IdParams,
        headers: IfMatchHeaders,
        response: {
          204: Type.Null({ description: 'deleted' }),
          ...problemResponses(400, 404, 409, 412, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      await service.remove(request.params.id, ifMatchOf(request.headers['if-match']), request.principal);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/transactions/:id/versions',
    {
      config: { scope: 'service' },
      schema: {
        tags: ['transactions'],
        summary: 'The audit trail: every version, when and by whom it was written (service tokens only)',
        params: IdParams,
        response: { 200: VersionsResponse, ...problemResponses(404, 422) },
      },
    },
    async (request) => service.versions(request.params.id),
  );

  app.get(
    '/users/:user_id/transactions',
    {
      config: { scope: 'transactions:read', countsWithRead: true },
      schema: {
        tags: ['users'],
        summary: "A user's transactions, newest first",
        params: UserParams,
        querystring: HistoryQuery,
        response: { 200: HistoryResponse, ...notModified, ...problemResponses(400, 404, 422) },
      },
    },
    async (request, reply) =>
      sendAnswer(
        reply,
        await history.history(
          request.params.user_id,
          request.query,
          request.principal,
          readRequestOf(request),
        ),
      ),
  );
  return Promise.resolve();
};
