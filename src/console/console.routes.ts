import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import { CONSOLE_TOKEN_SCOPE, CONSOLE_TOKEN_TTL_S, type ConsoleLogin } from './console-login.ts';

/**
 * The staff console's policy: everything from this origin, nothing inline, nothing from anywhere
 * else, no framing. The page reads data only through /api/v1 (connect-src 'self').
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * The page, its modules and its stylesheet. Next to this file in src/ (the build copies the folder
 * into dist/ beside the compiled module), so one path serves both `npm run dev` and `npm start`.
 */
export const CONSOLE_DIR = join(import.meta.dirname, 'public');

const LoginBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

/**
 * GET /console: static files. The page holds no data and no secret; it calls the public API with
 * its user's token like any other client, so nothing here reads customer data. With `login`
 * (embedded default only, see console-login.ts) /console/login exchanges the local code for a
 * short-lived token.
 */
export async function consoleRoutes(
  app: FastifyInstance,
  options: { login: ConsoleLogin | null },
): Promise<void> {
  // over helmet's API policy (default-src 'none'), for the responses of this plugin only
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('content-security-policy', CONSOLE_CSP);
    done(null, payload);
  });
  await app.register(fastifyStatic, {
    root: CONSOLE_DIR,
    prefix: '/console/',
    // one route per file found at start: no file-system lookups for arbitrary paths
    wildcard: false,
    index: 'index.html',
    // revalidated on every load (ETag), so a new release is picked up at once
    maxAge: 0,
  });
  app.get('/console', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));

  const { login } = options;
  if (login === null) return;
  app.get('/console/login', { schema: { hide: true } }, (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ available: true, expires_in: CONSOLE_TOKEN_TTL_S }),
  );
  app.post('/console/login', { schema: { hide: true, body: LoginBody } }, async (request, reply) => {
    const { code } = request.body as { code: string };
    const token = await login.exchange(code);
    void reply.header('cache-control', 'no-store');
    if (token === null) {
      throw new AppError(401, 'invalid_sign_in_code', 'Unauthorized', {
        detail: 'that is not the sign-in code in DATA_DIR/console-code',
      });
    }
    return {
      access_token: token,
      token_type: 'Bearer',
      expires_in: CONSOLE_TOKEN_TTL_S,
      scope: CONSOLE_TOKEN_SCOPE,
    };
  });
}
