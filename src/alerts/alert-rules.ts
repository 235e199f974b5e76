import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { dayOf } from '../analytics/day-totals.ts';
import { ConfigError } from '../config.ts';
import { parseAmount } from '../money/amount.ts';
import { isKnownCurrency } from '../money/currencies.ts';

/** The rules file that ships; resolves to the repository's config/ from src/ and from dist/ alike. */
export const DEFAULT_ALERT_RULES_PATH = fileURLToPath(
  new URL('../../config/alert-rules.json', import.meta.url),
);

const VERSION_PATTERN = '^\\d{4}-\\d{2}-\\d{2}\\.\\d+$';
const Severity = Type.Enum(['low', 'medium', 'high']);
// Amounts are decimal strings, never JSON numbers, so no binary float ever touches a threshold;
// their digits are checked per currency after the schema, where the currency is known.
const PerCurrency = Type.Record(Type.String(), Type.String());
const closed = { additionalProperties: false } as const;

/** The rules file as written (docs/ALERTS.md); unknown fields are refused so a typo cannot pass. */
export const AlertRulesFileSchema = Type.Object(
  {
    version: Type.String({ pattern: VERSION_PATTERN }),
    large_transaction: Type.Object({ severity: Severity, thresholds: PerCurrency }, closed),
    velocity: Type.Object(
      {
        severity: Severity,
        window_minutes: Type.Integer({ minimum: 1, maximum: 1440 }),
        max_transactions: Type.Integer({ minimum: 1, maximum: 100_000 }),
        max_debit: PerCurrency,
      },
      closed,
    ),
    sustained_outflow: Type.Object(
      {
        severity: Severity,
        window_days: Type.Integer({ minimum: 1, maximum: 366 }),
        margin: PerCurrency,
      },
      closed,
    ),
  },
  closed,
);
type RulesFile = Static<typeof AlertRulesFileSchema>;
const validator = Compile(AlertRulesFileSchema);

export type Severity = 'low' | 'medium' | 'high';
/** Minor units per ISO 4217 code; a currency absent from the map is not checked by that rule. */
export type PerCurrencyMinor = ReadonlyMap<string, bigint>;

/** Boundaries (docs/ALERTS.md): a threshold or margin fires when reached, a max_ only when exceeded. */
export interface AlertRules {
  readonly version: string;
  readonly largeTransaction: { readonly severity: Severity; readonly thresholds: PerCurrencyMinor };
  readonly velocity: {
    readonly severity: Severity;
    readonly windowMinutes: number;
    readonly maxTransactions: number;
    readonly maxDebit: PerCurrencyMinor;
  };
  readonly sustainedOutflow: {
    readonly severity: Severity;
    readonly windowDays: number;
    readonly margin: PerCurrencyMinor;
  };
}

/**
 * Parses and validates a rules file. Throws ConfigError listing every problem, each naming its
 * field as a dotted path (e.g. `velocity.max_debit.GHS`), so the start-up loader can print it.
 */
export function parseAlertRules(text: string, source = 'alert rules'): AlertRules {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`${source}: not valid JSON: ${(error as Error).message}`]);
  }
  if (!validator.Check(json)) {
    throw new ConfigError(
      validator.Errors(json).flatMap((e) => describeError(e).map((p) => `${source}: ${p}`)),
    );
  }
  const problems: string[] = [];
  const amounts = (path: string, values: Record<string, string>): PerCurrencyMinor => {
    const out = new Map<string, bigint>();
    for (const [currency, text] of Object.entries(values)) {
      if (!isKnownCurrency(currency)) {
        problems.push(`${source}: ${path}.${currency}: unknown currency ${JSON.stringify(currency)}`);
        continue;
      }
      const amount = parseAmount(text, currency);
      if (amount.ok) out.set(currency, amount.minor);
      else problems.push(`${source}: ${path}.${currency}: ${JSON.stringify(text)} ${amount.message}`);
    }
    return out;
  };
  const file: RulesFile = json;
  const rules: AlertRules = {
    version: file.version,
    largeTransaction: {
      severity: file.large_transaction.severity,
      thresholds: amounts('large_transaction.thresholds', file.large_transaction.thresholds),
    },
    velocity: {
      severity: file.velocity.severity,
      windowMinutes: file.velocity.window_minutes,
      maxTransactions: file.velocity.max_transactions,
      maxDebit: amounts('velocity.max_debit', file.velocity.max_debit),
    },
    sustainedOutflow: {
      severity: file.sustained_outflow.severity,
      windowDays: file.sustained_outflow.window_days,
      margin: amounts('sustained_outflow.margin', file.sustained_outflow.margin),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return rules;
}

/** Reads and parses a rules file at start; a missing or bad file is a ConfigError naming the path. */
export function loadAlertRules(path: string = DEFAULT_ALERT_RULES_PATH): AlertRules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`alert rules ${path}: cannot be read: ${(error as Error).message}`]);
  }
  return parseAlertRules(text, `alert rules ${path}`);
}

interface SchemaError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly params: object;
  readonly message: string;
}

/** TypeBox's errors as "dotted.path: what is wrong", one per offending field. */
function describeError(error: SchemaError): string[] {
  const path = error.instancePath.slice(1).replaceAll('/', '.');
  const field = (name: string) => (path === '' ? name : `${path}.${name}`);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'boolean': // the same unknown field is reported again under additionalProperties
      return [];
    case 'additionalProperties':
      return (params.additionalProperties as string[]).map((name) => `${field(name)}: is not a known field`);
    case 'required':
      return (params.requiredProperties as string[]).map((name) => `${field(name)}: is required`);
    case 'enum':
      return [`${path}: must be one of ${(params.allowedValues as string[]).join(', ')}`];
    case 'pattern': // the version is the file's only pattern
      return [`${path}: must look like "2026-11-30.1" (release date, then a sequence number)`];
    default:
      return [`${path === '' ? '(file)' : path}: ${error.message}`];
  }
}

/** Velocity looks at transactions dated in (anchor - window, anchor]: the start excluded, the anchor included. */
export function velocityWindow(
  rules: AlertRules,
  anchor: Date,
): { readonly after: Date; readonly upTo: Date } {
  return { after: new Date(anchor.getTime() - rules.velocity.windowMinutes * 60_000), upTo: anchor };
}

/**
 * Outflow sums whole UTC calendar days: the window_days days ending with the anchor's day, both
 * inclusive (analytics' from/to), so the worker can add up the per-day totals it already keeps.
 */
export function outflowDays(rules: AlertRules, anchor: Date): { readonly from: string; readonly to: string } {
  const to = dayOf(anchor);
  const first =
    new Date(`${to}T00:00:00.000Z`).getTime() - (rules.sustainedOutflow.windowDays - 1) * 86_400_000;
  return { from: dayOf(new Date(first)), to };
}
