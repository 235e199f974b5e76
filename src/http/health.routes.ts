import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';

/** A dependency the service needs to serve; `critical: false` ones only degrade readiness. */
export interface HealthCheck {
  readonly name: string;
  readonly critical: boolean;
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 1_500;

const CheckResult = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('degraded')]),
  error: Type.Optional(Type.String()),
});
const ReadyResponse = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Record(Type.String(), CheckResult),
});

async function run(check: HealthCheck): Promise<{ status: 'up' | 'down' | 'degraded'; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`));
    }, CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check.check(), timeout]);
    return { status: 'up' };
  } catch (error) {
    return { status: check.critical ? 'down' : 'degraded', error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsync<{ checks: readonly HealthCheck[] }> = async (
  app,
  { checks },
) => {
  app.get(
    '/health/live',
    {
      schema: {
        tags: ['health'],
        security: [],
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['health'],
        security: [],
        summary: 'Every configured dependency answers',
        response: { 200: ReadyResponse, 503: ReadyResponse },
      },
    },
    async (_request, reply) => {
      const results = await Promise.all(checks.map(async (c) => [c.name, await run(c)] as const));
      const ready = results.every(([, r]) => r.status !== 'down');
      if (!ready) void reply.header('retry-after', '5');
      return reply
        .status(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) });
    },
  );
  return Promise.resolve();
};
