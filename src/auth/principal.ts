/** OAuth 2.0 style scopes carried space-separated in the token's `scope` claim. */
export const SCOPES = [
  'transactions:read',
  'transactions:write',
  'analytics:read',
  'webhooks:manage',
  'service',
] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Who is calling. A `service` token acts for any user with every scope; any other token acts
 * only for the user named in its `sub`.
 */
export interface Principal {
  /** The token's `sub`: the author in the audit trail. */
  readonly subject: string;
  /** Whose Idempotency-Keys and rate limit this is: `client_id`/`azp` claim, else `sub`. */
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  readonly isService: boolean;
}

export const ANONYMOUS_SERVICE: Principal = {
  subject: 'anonymous',
  clientId: 'anonymous',
  scopes: new Set(SCOPES),
  isService: true,
};

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.isService || principal.scopes.has(scope);
}

/** May this principal see or act on `userId`'s data? */
export function actsFor(principal: Principal, userId: string): boolean {
  return principal.isService || principal.subject === userId;
}
