import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';

/** The document's frame; paths and schemas come from the route schemas that also validate. */
export function openApiDocument(): NonNullable<FastifyDynamicSwaggerOptions['openapi']> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Fido Transactions',
      version: '1.0.0',
      description:
        'Records every credit and debit of Fido customers and answers what other systems ask about them. ' +
        'Errors are application/problem+json (RFC 9457). Amounts are decimal strings in responses.',
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'scope claim: transactions:read transactions:write analytics:read webhooks:manage service',
        },
      },
    },
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'transactions', description: 'Create, read, update and delete transaction records' },
      { name: 'users', description: "A customer's history" },
      { name: 'webhooks', description: 'Subscriptions of other systems to events, and their deliveries' },
      { name: 'health', description: 'Liveness and readiness' },
    ],
  };
}
