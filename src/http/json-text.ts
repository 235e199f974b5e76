import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CachedAnswer, ReadRequest } from '../cache/read-cache.ts';

/**
 * Sends JSON text that is already serialised (a cached answer) as is: Fastify skips its
 * serializer for a string with a JSON content type, so a cache hit costs no serialisation. The
 * text was produced from the same response type the route's schema declares.
 */
export function sendJsonText(reply: FastifyReply, text: string | Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(text);
}

/** A conditional read's answer: 200 with its ETag, or 304 with the ETag and no body. */
export function sendAnswer(reply: FastifyReply, answer: CachedAnswer): FastifyReply {
  void reply.header('etag', answer.tag);
  return answer.body === null ? reply.code(304).send() : sendJsonText(reply, answer.body);
}

/** What a read route hands its service: the caller's If-None-Match and the request's admission. */
export function readRequestOf(request: FastifyRequest): ReadRequest {
  const ifNoneMatch = request.headers['if-none-match'];
  return { ifNoneMatch, admit: request.admit };
}
