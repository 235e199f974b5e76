import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { FieldError } from '../errors.ts';

// ajv-formats ships CommonJS; its default export is the function under ESM interop.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function newAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true, // every offending field at once
    coerceTypes, // query strings and path params arrive as text; bodies must not be coerced
    removeAdditional: false, // unknown fields are rejected, never silently dropped
    useDefaults: true,
    strict: false, // TypeBox adds annotations (e.g. examples) Ajv does not know
    verbose: true, // keeps parentSchema, whose description makes the best message for a union
  });
  addFormats(ajv);
  return ajv;
}

const bodyAjv = newAjv(false);
const textAjv = newAjv(true);

/** Bodies are validated strictly (no coercion); query strings and params are coerced from text. */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  const validate: ValidateFunction = (httpPart === 'body' ? bodyAjv : textAjv).compile(schema);
  return (data: unknown) =>
    validate(data) ? { value: data } : { error: toValidationError(validate.errors ?? []) };
};

export class SchemaValidationError extends Error {
  readonly fieldErrors: readonly FieldError[];
  constructor(fieldErrors: readonly FieldError[]) {
    super('schema validation failed');
    this.name = 'SchemaValidationError';
    this.fieldErrors = fieldErrors;
  }
}

function toValidationError(errors: readonly ErrorObject[]): SchemaValidationError {
  return new SchemaValidationError(toFieldErrors(errors));
}

/** One entry per offending field, with a message a client developer can act on. */
export function toFieldErrors(errors: readonly ErrorObject[]): FieldError[] {
  const byPointer = new Map<string, string>();
  for (const error of errors) {
    const { pointer, message } = describe(error);
    // anyOf comes after its branches' errors and says best what the field accepts
    if (!byPointer.has(pointer) || error.keyword === 'anyOf') byPointer.set(pointer, message);
  }
  return [...byPointer].map(([pointer, message]) => ({ pointer, message }));
}

function describe(error: ErrorObject): FieldError {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { pointer: `${error.instancePath}/${String(params.missingProperty)}`, message: 'is required' };
    case 'additionalProperties':
      return {
        pointer: `${error.instancePath}/${String(params.additionalProperty)}`,
        message: 'is not a known field',
      };
    case 'enum':
      return {
        pointer: error.instancePath,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'pattern': {
      // the schema's description says what the pattern means better than the pattern itself
      const description = (error.parentSchema as { description?: string } | undefined)?.description;
      return {
        pointer: error.instancePath,
        message: description ? `must be ${description}` : (error.message ?? 'is invalid'),
      };
    }
    case 'minLength':
      if (params.limit === 1) return { pointer: error.instancePath, message: 'must not be empty' };
      return { pointer: error.instancePath, message: error.message ?? 'is too short' };
    case 'anyOf':
    case 'oneOf':
      return {
        pointer: error.instancePath,
        message:
          (error.parentSchema as { description?: string } | undefined)?.description ?? 'has an invalid value',
      };
    default:
      return { pointer: error.instancePath, message: error.message ?? 'is invalid' };
  }
}
