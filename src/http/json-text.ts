import type { FastifyReply } from 'fastify';

/**
 * Sends JSON text that is already serialised (a cached answer) as is: Fastify skips its
 * serializer for a string with a JSON content type, so a cache hit costs no serialisation. The
 * text was produced from the same response type the route's schema declares.
 */
export function sendJsonText(reply: FastifyReply, text: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(text);
}
