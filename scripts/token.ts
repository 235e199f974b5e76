/**
 * `npm run token -- --sub USER --scope "transactions:read transactions:write" [--ttl SECONDS]`
 * prints a signed HS256 access token for the running service: JWT_SECRET when set, otherwise
 * the secret the embedded default generated into DATA_DIR.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { loadConfigOrExit } from '../src/config.ts';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    scope: { type: 'string', default: 'transactions:read transactions:write analytics:read' },
    ttl: { type: 'string', default: '3600' },
    client: { type: 'string' },
  },
});
if (values.sub === undefined) {
  process.stderr.write('usage: npm run token -- --sub USER [--scope "..."] [--ttl SECONDS] [--client ID]\n');
  process.exit(2);
}
const config = loadConfigOrExit();
const secret = config.auth.secret ?? readFileSync(join(config.dataDir, 'jwt-secret'), 'utf8').trim();
const ttl = Number(values.ttl);
const jwt = new SignJWT({
  scope: values.scope,
  ...(values.client === undefined ? {} : { client_id: values.client }),
})
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(values.sub)
  .setIssuedAt()
  .setExpirationTime(Math.floor(Date.now() / 1000) + (Number.isFinite(ttl) && ttl > 0 ? ttl : 3600));
if (config.auth.issuer !== undefined) jwt.setIssuer(config.auth.issuer);
if (config.auth.audience !== undefined) jwt.setAudience(config.auth.audience);
process.stdout.write(`${await jwt.sign(new TextEncoder().encode(secret))}\n`);
