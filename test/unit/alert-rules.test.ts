import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  DEFAULT_ALERT_RULES_PATH,
  loadAlertRules,
  outflowDays,
  parseAlertRules,
  velocityWindow,
} from '../../src/alerts/alert-rules.ts';
import { ConfigError } from '../../src/config.ts';

interface RulesJson {
  version?: string;
  large_transaction?: Record<string, unknown>;
  velocity?: Record<string, unknown>;
  sustained_outflow?: Record<string, unknown>;
}
const defaultFile = (): RulesJson => JSON.parse(readFileSync(DEFAULT_ALERT_RULES_PATH, 'utf8')) as RulesJson;

/** The problems a rules text is refused with. */
function problemsOf(text: string): readonly string[] {
  try {
    parseAlertRules(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('the rules were accepted');
}

const withChange = (change: (file: RulesJson) => void): string => {
  const file = defaultFile();
  change(file);
  return JSON.stringify(file);
};

describe('alert rules file', () => {
  it('ships a default that parses into minor units, versioned', () => {
    const rules = loadAlertRules();
    assert.match(rules.version, /^\d{4}-\d{2}-\d{2}\.\d+$/);
    assert.equal(rules.largeTransaction.thresholds.get('GHS'), 500_000n);
    assert.equal(rules.largeTransaction.thresholds.get('UGX'), 1_500_000n);
    assert.equal(rules.velocity.windowMinutes, 30);
    assert.equal(rules.velocity.maxTransactions, 8);
    assert.equal(rules.velocity.maxDebit.get('GHS'), 500_000n);
    assert.equal(rules.sustainedOutflow.windowDays, 30);
    assert.equal(rules.sustainedOutflow.margin.get('GHS'), 200_000n);
  });

  it('names the field of an amount that is not a decimal string of its currency', () => {
    const problems = problemsOf(
      withChange((file) => {
        file.large_transaction = { severity: 'medium', thresholds: { GHS: '5,000.00', UGX: '100.5' } };
        file.sustained_outflow = { severity: 'medium', window_days: 30, margin: { GHS: '2000.001' } };
      }),
    );
    assert.equal(problems.length, 3);
    assert.match(
      problems[0] ?? '',
      /large_transaction\.thresholds\.GHS: "5,000\.00" must be a positive decimal/,
    );
    assert.match(problems[1] ?? '', /large_transaction\.thresholds\.UGX: "100\.5" must be a whole number/);
    assert.match(
      problems[2] ?? '',
      /sustained_outflow\.margin\.GHS: "2000\.001" must have at most 2 decimal/,
    );
  });

  it('refuses an amount written as a JSON number, so no float reaches a threshold', () => {
    const problems = problemsOf(
      withChange((file) => (file.velocity = { ...file.velocity, max_debit: { GHS: 5000 } })),
    );
    assert.deepEqual(problems, ['alert rules: velocity.max_debit.GHS: must be string']);
  });

  it('refuses a currency the service does not know', () => {
    const problems = problemsOf(
      withChange((file) => (file.velocity = { ...file.velocity, max_debit: { GHS: '1.00', XYZ: '10.00' } })),
    );
    assert.deepEqual(problems, ['alert rules: velocity.max_debit.XYZ: unknown currency "XYZ"']);
  });

  it('names every missing, unknown or out-of-range field at once', () => {
    const problems = problemsOf(
      withChange((file) => {
        delete file.velocity?.window_minutes;
        file.sustained_outflow = {
          ...file.sustained_outflow,
          window_days: 0,
          severity: 'urgent',
          windowdays: 3,
        };
        file.version = 'v2';
      }),
    );
    assert.deepEqual([...problems].sort(), [
      'alert rules: sustained_outflow.severity: must be one of low, medium, high',
      'alert rules: sustained_outflow.window_days: must be >= 1',
      'alert rules: sustained_outflow.windowdays: is not a known field',
      'alert rules: velocity.window_minutes: is required',
      'alert rules: version: must look like "2026-11-30.1" (release date, then a sequence number)',
    ]);
  });

  it('names a missing rule and a file that is not JSON', () => {
    assert.deepEqual(
      problemsOf(
        withChange((file) => {
          delete file.sustained_outflow;
        }),
      ),
      ['alert rules: sustained_outflow: is required'],
    );
    assert.match(problemsOf('{ "version": ')[0] ?? '', /^alert rules: not valid JSON/);
  });

  it('names the path of a rules file that cannot be read', () => {
    assert.throws(
      () => loadAlertRules('/nonexistent/alert-rules.json'),
      (error: unknown) =>
        error instanceof ConfigError &&
        /alert rules \/nonexistent\/alert-rules\.json: cannot be read/.test(error.message),
    );
  });
});

describe('alert rule windows', () => {
  const rules = loadAlertRules();

  it('velocity: the window_minutes before the anchor, start excluded, anchor included', () => {
    const anchor = new Date('2026-11-30T10:00:00.000Z');
    const window = velocityWindow(rules, anchor);
    assert.equal(window.after.toISOString(), '2026-11-30T09:30:00.000Z');
    assert.equal(window.upTo, anchor);
  });

  it('outflow: window_days whole UTC days ending with the anchor day, both inclusive', () => {
    assert.deepEqual(outflowDays(rules, new Date('2026-11-30T23:59:59.999Z')), {
      from: '2026-11-01',
      to: '2026-11-30',
    });
    assert.deepEqual(outflowDays(rules, new Date('2026-03-01T00:00:00.000Z')), {
      from: '2026-01-31',
      to: '2026-03-01',
    });
  });
});
