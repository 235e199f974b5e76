import { createSecretKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError } from '../errors.ts';
import type { Principal } from './principal.ts';
import { createVerifiedTokens } from './verified-tokens.ts';

export interface AuthenticatorOptions {
  readonly secret: string | undefined;
  readonly jwksUrl: string | undefined;
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
  readonly clockSkewS: number;
}

export interface Authenticate {
  (authorization: string | undefined): Promise<Principal>;
  /** The principal of a token verified before and still valid, at once; undefined otherwise. */
  readonly remembered: (authorization: string | undefined) => Principal | undefined;
}

const BEARER = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/i;

/**
 * Verifies Bearer JWTs with jose. The accepted algorithms are pinned to the key material
 * (HS256 for a shared secret; RS256/ES256 for a JWKS), so `alg: none` and algorithm confusion
 * (an HS256 token signed with a public key) fail verification. `exp` is required. A token that
 * passed is remembered until it expires (verified-tokens.ts), and the shared secret is imported
 * once as a KeyObject (given as bytes, jose imports it on every call).
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticate {
  const { key, algorithms } = keyMaterial(options);
  const verified = createVerifiedTokens(options.clockSkewS);
  const authenticate = async (authorization: string | undefined): Promise<Principal> => {
    const token = BEARER.exec(authorization ?? '')?.[1];
    if (token === undefined)
      throw unauthorized(authorization === undefined ? undefined : 'malformed Authorization header');
    const known = verified.get(token, Date.now());
    if (known !== undefined) return known;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
        algorithms,
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockSkewS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw unauthorized(describe(error));
    }
    if (payload.iat !== undefined && payload.iat > Date.now() / 1000 + options.clockSkewS) {
      throw unauthorized('token issued in the future');
    }
    const principal = toPrincipal(payload);
    verified.remember(token, principal, payload.exp ?? 0, Date.now());
    return principal;
  };
  const remembered = (authorization: string | undefined): Principal | undefined => {
    const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    return token === undefined ? undefined : verified.get(token, Date.now());
  };
  return Object.assign(authenticate, { remembered });
}

function keyMaterial(options: AuthenticatorOptions): {
  key: KeyObject | JWTVerifyGetKey;
  algorithms: string[];
} {
  if (options.jwksUrl !== undefined) {
    // jose caches the set and refetches on an unknown kid (bounded by its cooldown)
    return {
      key: createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 3_000, cacheMaxAge: 600_000 }),
      algorithms: ['RS256', 'ES256'],
    };
  }
  if (options.secret === undefined) throw new Error('JWT_SECRET or JWT_JWKS_URL is required when auth is on');
  return { key: createSecretKey(Buffer.from(options.secret, 'utf8')), algorithms: ['HS256'] };
}

function toPrincipal(payload: JWTPayload): Principal {
  const subject = payload.sub ?? '';
  const scopeClaim = payload.scope;
  const scopes = new Set(typeof scopeClaim === 'string' ? scopeClaim.split(' ').filter((s) => s !== '') : []);
  const client = [payload.client_id, payload.azp].find((c): c is string => typeof c === 'string' && c !== '');
  return { subject, clientId: client ?? subject, scopes, isService: scopes.has('service') };
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `claim ${error.claim} invalid: ${error.reason}`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'signing algorithm not accepted';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature invalid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key matches the token';
  return 'token invalid';
}

/** RFC 6750: 401 with a WWW-Authenticate challenge naming the problem. */
export function unauthorized(reason: string | undefined): AppError {
  const challenge =
    reason === undefined
      ? 'Bearer realm="fido"'
      : `Bearer realm="fido", error="invalid_token", error_description="${reason}"`;
  return new AppError(401, 'unauthorized', 'Unauthorized', {
    detail: reason ?? 'a Bearer token is required',
    headers: { 'www-authenticate': challenge },
  });
}

export function insufficientScope(scope: string): AppError {
  return new AppError(403, 'insufficient_scope', 'Forbidden', {
    detail: `the token lacks the scope ${scope}`,
    headers: { 'www-authenticate': `Bearer realm="fido", error="insufficient_scope", scope="${scope}"` },
  });
}
