import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { readRequestOf, sendAnswer } from '../http/json-text.ts';
import { notModified, problemResponses, UserParams } from '../transactions/transactions.schemas.ts';
import { AlertsQuery, AlertsResponse } from './alerts.schemas.ts';
import type { AlertsService } from './alerts.service.ts';

export const alertsRoutes: FastifyPluginAsyncTypebox<{ service: AlertsService }> = async (
  app,
  { service },
) => {
  app.get(
    '/users/:user_id/alerts',
    {
      config: { scope: 'analytics:read', countsWithRead: true },
      schema: {
        tags: ['users'],
        summary: 'Alerts raised for a user, newest first (rules: docs/ALERTS.md)',
        params: UserParams,
        querystring: AlertsQuery,
        response: { 200: AlertsResponse, ...notModified, ...problemResponses(400, 404, 422) },
      },
    },
    async (request, reply) =>
      sendAnswer(
        reply,
        await service.list(request.params.user_id, request.query, request.principal, readRequestOf(request)),
      ),
  );
  return Promise.resolve();
};
