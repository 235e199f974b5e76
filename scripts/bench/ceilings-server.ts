/**
 * The ceilings' HTTP server, a child process like the service: Fastify 5 with the service's
 * logger (same pino options, same LOG_LEVEL, the same one access-log line per request as the
 * service, src/http/access-log.ts) and nothing else: no helmet, no auth, no rate limit, no schema
 * validation. What our endpoints do beyond this is what their ratio prices.
 *   GET  /bare/:name  the same JSON text as our answer `name`, sent as is (as a cache hit is)
 *   GET  /raw/find    the history query on the driver, JSON of the raw rows
 *   POST /raw/insert  one insert and one event, durable before the answer
 *   GET  /raw/cache   one Redis GET (test bed only)
 */
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { accessLogOptions } from '../../src/http/access-log.ts';
import { loggerOptions } from '../../src/logger.ts';
import { mongoBackend, sqliteBackend } from './raw-backends.ts';

const env = process.env;
const bodies = JSON.parse(readFileSync(env.BENCH_BODIES_FILE ?? '', 'utf8')) as Record<string, string>;
const historyUser = env.BENCH_HISTORY_USER ?? '';
const backend = env.MONGODB_URL ? await mongoBackend(env) : sqliteBackend(env);

const logger: FastifyBaseLogger = pino(loggerOptions(env.LOG_LEVEL ?? 'info'));
const app = Fastify({ loggerInstance: logger, ...accessLogOptions(), bodyLimit: 16 * 1024 });

app.get<{ Params: { name: string } }>('/bare/:name', async (request, reply) => {
  const body = bodies[request.params.name];
  if (body === undefined) return reply.code(404).send({ error: 'no such body' });
  return reply.type('application/json; charset=utf-8').send(body);
});
app.get('/raw/find', async (_request, reply) =>
  reply.type('application/json; charset=utf-8').send(await backend.find(historyUser)),
);
app.post<{ Body: Record<string, unknown> }>('/raw/insert', async (request, reply) => {
  await backend.insert(request.body);
  return reply.code(201).send({ ok: true });
});
const cacheGet = backend.cacheGet;
if (cacheGet !== null) {
  app.get('/raw/cache', async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send((await cacheGet()) ?? 'null'),
  );
}
app.get('/ready', () => ({ ok: true }));

await app.listen({ host: env.HOST ?? '127.0.0.1', port: Number(env.PORT ?? 0) });

const stop = (): void => {
  void (async () => {
    await app.close();
    await backend.close();
    process.exit(0);
  })();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
