import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { Config } from '../config.ts';
import { loadOrCreateSecret } from '../crypto/key-file.ts';

/** A console sign-in buys this much time; then the page asks again. */
export const CONSOLE_TOKEN_TTL_S = 15 * 60;
/** The staff token acts for any customer, as the console is for looking customers up. */
export const CONSOLE_TOKEN_SCOPE = 'service';
/** The author the audit trail records for writes made with such a token. */
export const CONSOLE_TOKEN_SUBJECT = 'console';
/** In DATA_DIR: whoever can read it can already read the signing secret beside it. */
export const CONSOLE_CODE_FILE = 'console-code';

export interface ConsoleLogin {
  /** A short-lived staff token for the right code; null for any other. */
  exchange(code: string): Promise<string | null>;
}

/**
 * The console's sign-in without an identity provider, for the embedded default only: the service
 * generated its own HS256 secret into DATA_DIR (no JWT_SECRET, no JWT_JWKS_URL, no MONGODB_URL,
 * auth on), so it may mint tokens with it, exactly as `npm run token` does on the same machine.
 * Anywhere else tokens come from the real issuer and this returns null: there is no setting that
 * turns it on, so production (MONGODB_URL set, which requires a real secret or JWKS) cannot.
 * Call after the authenticator is built: it reads the secret that step generated.
 */
export function createConsoleLogin(config: Config): ConsoleLogin | null {
  const { auth } = config;
  if (
    config.mongodb !== undefined ||
    auth.disabled ||
    auth.secret !== undefined ||
    auth.jwksUrl !== undefined
  ) {
    return null;
  }
  const key = new TextEncoder().encode(readFileSync(join(config.dataDir, 'jwt-secret'), 'utf8').trim());
  const code = loadOrCreateSecret(config.dataDir, CONSOLE_CODE_FILE, () =>
    randomBytes(18).toString('base64url'),
  );
  const expected = digest(code.value);
  return {
    async exchange(given) {
      // equal-length digests, compared in constant time: the answer says nothing about the code
      if (!timingSafeEqual(digest(given), expected)) return null;
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT({ scope: CONSOLE_TOKEN_SCOPE })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(CONSOLE_TOKEN_SUBJECT)
        .setIssuedAt(now)
        .setExpirationTime(now + CONSOLE_TOKEN_TTL_S);
      if (auth.issuer !== undefined) jwt.setIssuer(auth.issuer);
      if (auth.audience !== undefined) jwt.setAudience(auth.audience);
      return jwt.sign(key);
    },
  };
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
