// @ts-check
/**
 * The access token lives in this tab's sessionStorage only: never in localStorage, a cookie or
 * the URL, so it is gone when the tab closes and no other site or tab can send it.
 */
const KEY = 'fido-console.token';

/** @typedef {{ subject: string, scope: string, exp: number }} Claims */

/** @returns {string | null} */
export function readToken() {
  return sessionStorage.getItem(KEY);
}

/** @param {string} token */
export function saveToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}

/**
 * What the token says about itself, for display and an early expiry check only: the service
 * verifies the signature on every request.
 * @param {string} token
 * @returns {Claims | string} the claims, or why the text is not a usable token
 */
export function claimsOf(token) {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) {
    return 'This is not a JWT: expected three base64url parts separated by dots.';
  }
  /** @type {unknown} */
  let payload;
  try {
    const base64 = (parts[1] ?? '').replaceAll('-', '+').replaceAll('_', '/');
    payload = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))));
  } catch {
    return 'The token payload is not readable JSON.';
  }
  if (typeof payload !== 'object' || payload === null) return 'The token payload is not an object.';
  const claims = /** @type {{ sub?: unknown, scope?: unknown, exp?: unknown }} */ (payload);
  const { sub: subject, scope, exp } = claims;
  if (typeof exp !== 'number') return 'The token has no expiry (exp).';
  if (exp * 1000 <= Date.now()) return 'The token has expired: ask for a new one.';
  return {
    subject: typeof subject === 'string' ? subject : '?',
    scope: typeof scope === 'string' ? scope : '',
    exp,
  };
}
