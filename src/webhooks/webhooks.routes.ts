import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SchemaValidationError } from '../http/validation.ts';
import { problemResponses } from '../transactions/transactions.schemas.ts';
import type { WebhookService } from './webhooks.service.ts';
import {
  CreatedWebhookResponse,
  CreateWebhookBody,
  DEFAULT_DELIVERIES_LIMIT,
  DeliveriesQuery,
  DeliveryListResponse,
  WebhookListResponse,
  WebhookParams,
  WebhookResponse,
} from './webhooks.schemas.ts';

export const webhookRoutes: FastifyPluginAsyncTypebox<{ service: WebhookService }> = async (
  app,
  { service },
) => {
  app.post(
    '/webhooks',
    {
      config: { scope: 'webhooks:manage' },
      // the URL checks the schema cannot express join the schema's complaints in one 422
      attachValidation: true,
      schema: {
        tags: ['webhooks'],
        summary: 'Subscribe a URL to events; the response holds the signing secret, shown only once',
        body: CreateWebhookBody,
        response: { 201: CreatedWebhookResponse, ...problemResponses(400, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const error = request.validationError;
      if (error !== undefined && !(error instanceof SchemaValidationError)) throw error;
      const created = await service.create(
        { body: request.body, schemaErrors: error?.fieldErrors ?? [] },
        request.principal,
      );
      return reply.status(201).header('location', `/api/v1/webhooks/${created.id}`).send(created);
    },
  );

  app.get(
    '/webhooks',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        tags: ['webhooks'],
        summary: "The caller's subscriptions (every subscription for a service token), without secrets",
        response: { 200: WebhookListResponse, ...problemResponses() },
      },
    },
    async (request) => service.list(request.principal),
  );

  app.get(
    '/webhooks/:id',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        tags: ['webhooks'],
        summary: 'One subscription, without its secret',
        params: WebhookParams,
        response: { 200: WebhookResponse, ...problemResponses(404, 422) },
      },
    },
    async (request) => service.get(request.params.id, request.principal),
  );

  app.delete(
    '/webhooks/:id',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        tags: ['webhooks'],
        summary: 'Unsubscribe; deliveries not yet made are dropped',
        params: WebhookParams,
        response: { 204: Type.Null({ description: 'deleted' }), ...problemResponses(404, 422) },
      },
    },
    async (request, reply) => {
      await service.remove(request.params.id, request.principal);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        tags: ['webhooks'],
        summary: 'Deliveries of a subscription, newest first, dead-lettered ones with their last error',
        params: WebhookParams,
        querystring: DeliveriesQuery,
        response: { 200: DeliveryListResponse, ...problemResponses(404, 422) },
      },
    },
    async (request) =>
      service.deliveries(
        request.params.id,
        request.query.limit ?? DEFAULT_DELIVERIES_LIMIT,
        request.principal,
      ),
  );
  return Promise.resolve();
};
