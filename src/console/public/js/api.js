// @ts-check
/**
 * The console's only way to data: the public /api/v1 routes with the signed-in user's token, as
 * any other client calls them. Errors arrive as RFC 9457 problems and are thrown as ApiError.
 */
import { readToken } from './session.js';

/** @typedef {{ pointer: string, message: string }} FieldError */
/** @typedef {{ title?: string, status?: number, detail?: string, code?: string, errors?: FieldError[] }} Problem */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {Problem} problem
   */
  constructor(status, problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }

  /** The field errors, keyed by the last segment of their JSON pointer (`/transaction_amount`). */
  get fieldErrors() {
    /** @type {Map<string, string>} */
    const byField = new Map();
    for (const { pointer, message } of this.problem.errors ?? []) {
      const field = pointer.split('/').pop() ?? '';
      byField.set(field, byField.has(field) ? `${byField.get(field) ?? ''}; ${message}` : message);
    }
    return byField;
  }
}

/** @type {(error: ApiError) => void} */
let onUnauthorized = () => undefined;

/**
 * Called when the service refuses the token (401), so the page can ask for another.
 * @param {(error: ApiError) => void} handler
 */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/**
 * The last answer of each GET, by token and URL, with its ETag: a refresh sends If-None-Match and
 * a 304 (nothing changed since) reuses the body kept here instead of downloading it again. Held
 * in this page's memory only (responses stay `no-store`); the oldest go past MAX_KEPT.
 * @type {Map<string, { etag: string, body: unknown }>}
 */
const kept = new Map();
const MAX_KEPT = 50;

/** @param {string} key @param {string} etag @param {unknown} body */
function keep(key, etag, body) {
  kept.delete(key);
  kept.set(key, { etag, body });
  if (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value ?? '');
}

/**
 * @typedef {object} RequestOptions
 * @property {Record<string, string | number | undefined>} [query] empty values are left out
 * @property {unknown} [body] sent as JSON
 * @property {Record<string, string>} [headers]
 */

/**
 * @param {string} method
 * @param {string} path under /api/v1, with path segments already encoded
 * @param {RequestOptions} [options]
 * @returns {Promise<unknown>} the parsed JSON body; null for 204
 */
export async function api(method, path, options = {}) {
  const url = new URL(`/api/v1${path}`, window.location.origin);
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
  }
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', ...options.headers };
  const token = readToken();
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const keptKey = method === 'GET' ? `${token ?? ''} ${url.href}` : null;
  const previous = keptKey === null ? undefined : kept.get(keptKey);
  if (previous !== undefined) headers['if-none-match'] = previous.etag;
  /** @type {Response} */
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, { title: 'The service did not answer', detail: 'Check the connection and retry.' });
  }
  if (response.status === 204) return null;
  if (response.status === 304 && previous !== undefined) return previous.body;
  /** @type {unknown} */
  const body = await response.json().catch(() => null);
  const etag = response.headers.get('etag');
  if (response.ok && keptKey !== null && etag !== null) keep(keptKey, etag, body);
  if (response.ok) return body;
  const problem = typeof body === 'object' && body !== null ? /** @type {Problem} */ (body) : {};
  const error = new ApiError(response.status, problem);
  if (response.status === 401) onUnauthorized(error);
  throw error;
}

/** @param {string} userId */
export const userPath = (userId) => `/users/${encodeURIComponent(userId)}`;

/**
 * What to tell staff when a panel could not load.
 * @param {unknown} error
 * @returns {string}
 */
export function explain(error) {
  if (!(error instanceof ApiError)) return 'Something went wrong in the console; reload the page.';
  switch (error.status) {
    case 403:
      return `Your token may not do this (${error.message}).`;
    case 404:
      return 'Nothing recorded for this customer, or your token may not see them.';
    case 429:
      return 'Too many requests: wait a little and retry.';
    default:
      return error.message;
  }
}
