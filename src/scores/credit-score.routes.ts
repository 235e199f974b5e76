import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { readRequestOf, sendAnswer } from '../http/json-text.ts';
import { notModified, problemResponses, UserParams } from '../transactions/transactions.schemas.ts';
import { CreditScoreResponse } from './credit-score.schemas.ts';
import type { CreditScoreService } from './credit-score.service.ts';

export const creditScoreRoutes: FastifyPluginAsyncTypebox<{ service: CreditScoreService }> = async (
  app,
  { service },
) => {
  app.get(
    '/users/:user_id/credit-score',
    {
      config: { scope: 'analytics:read', countsWithRead: true },
      schema: {
        tags: ['users'],
        summary: "A user's credit score (300-850) with its band and the contribution of each factor",
        description: 'The model is documented in docs/CREDIT-SCORE.md.',
        params: UserParams,
        response: { 200: CreditScoreResponse, ...notModified, ...problemResponses(400, 404, 422) },
      },
    },
    async (request, reply) =>
      sendAnswer(
        reply,
        await service.creditScore(request.params.user_id, request.principal, readRequestOf(request)),
      ),
  );
  return Promise.resolve();
};
