import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { readRequestOf, sendAnswer } from '../http/json-text.ts';
import { notModified, problemResponses, UserParams } from '../transactions/transactions.schemas.ts';
import { AnalyticsQuery, AnalyticsResponse } from './analytics.schemas.ts';
import type { AnalyticsService } from './analytics.service.ts';

export const analyticsRoutes: FastifyPluginAsyncTypebox<{ service: AnalyticsService }> = async (
  app,
  { service },
) => {
  app.get(
    '/users/:user_id/analytics',
    {
      config: { scope: 'analytics:read', countsWithRead: true },
      schema: {
        tags: ['users'],
        summary: "A user's average value, busiest day and credit/debit totals over a period",
        params: UserParams,
        querystring: AnalyticsQuery,
        response: { 200: AnalyticsResponse, ...notModified, ...problemResponses(400, 404, 422) },
      },
    },
    async (request, reply) =>
      sendAnswer(
        reply,
        await service.analytics(
          request.params.user_id,
          request.query,
          request.principal,
          readRequestOf(request),
        ),
      ),
  );
  return Promise.resolve();
};
