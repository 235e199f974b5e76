/**
 * One error type for everything the service answers on purpose. `code` is stable (clients may
 * branch on it); `status` is the HTTP status; `errors` names offending fields for validation.
 * Anything that is not an AppError is a programmer or infrastructure error: answered as a bare
 * 500 (or 503 for a dependency that is down) without internals.
 */
export interface FieldError {
  readonly pointer: string;
  readonly message: string;
}

export interface AppErrorOptions {
  readonly detail?: string;
  readonly errors?: readonly FieldError[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: readonly FieldError[] | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, title: string, options: AppErrorOptions = {}) {
    super(options.detail ?? title, { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

export const badRequest = (code: string, detail: string): AppError =>
  new AppError(400, code, 'Bad request', { detail });

export const validationFailed = (errors: readonly FieldError[]): AppError =>
  new AppError(422, 'validation_failed', 'Validation failed', {
    detail: errors.map((e) => `${e.pointer || '/'}: ${e.message}`).join('; '),
    errors,
  });

export const invalidField = (pointer: string, message: string): AppError =>
  validationFailed([{ pointer, message }]);

export const notFound = (detail: string): AppError => new AppError(404, 'not_found', 'Not found', { detail });

export const preconditionFailed = (detail: string): AppError =>
  new AppError(412, 'precondition_failed', 'Precondition failed', { detail });

export const conflict = (code: string, detail: string): AppError =>
  new AppError(409, code, 'Conflict', { detail });

/** A dependency (database, broker, cache) that cannot serve right now: 503 with Retry-After. */
export class DependencyUnavailableError extends AppError {
  constructor(dependency: string, cause?: unknown) {
    super(503, 'dependency_unavailable', 'Service unavailable', {
      detail: `${dependency} is unavailable; retry later`,
      headers: { 'retry-after': '5' },
      cause,
    });
    this.name = 'DependencyUnavailableError';
  }
}

/** Stored data failed authentication (tampered or wrong key): never answered with detail. */
export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}
