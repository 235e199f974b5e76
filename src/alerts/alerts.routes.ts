import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { problemResponses, UserParams } from '../transactions/transactions.schemas.ts';
import { AlertsQuery, AlertsResponse } from './alerts.schemas.ts';
import type { AlertsService } from './alerts.service.ts';

export const alertsRoutes: FastifyPluginAsyncTypebox<{ service: AlertsService }> = async (
  app,
  { service },
) => {
  app.get(
    '/users/:user_id/alerts',
    {
      config: { scope: 'analytics:read' },
      schema: {
        tags: ['users'],
        summary: 'Alerts raised for a user, newest first (rules: docs/ALERTS.md)',
        params: UserParams,
        querystring: AlertsQuery,
        response: { 200: AlertsResponse, ...problemResponses(400, 404, 422) },
      },
    },
    async (request) => service.list(request.params.user_id, request.query, request.principal),
  );
  return Promise.resolve();
};
