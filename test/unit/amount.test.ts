import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convertMinor, formatAmount, parseAmount } from '../../src/money/amount.ts';
import { parseJsonExact } from '../../src/http/json-body.ts';

describe('exact amounts', () => {
  it('parses decimal text into integer minor units without floats', () => {
    const cases: [string, string, bigint][] = [
      ['475.66', 'GHS', 47566n],
      ['0.1', 'GHS', 10n],
      ['0.01', 'USD', 1n],
      ['1000000000000', 'GHS', 100000000000000n],
      ['999999999999.99', 'EUR', 99999999999999n],
      ['150', 'UGX', 150n],
      ['1.5e2', 'UGX', 150n],
      ['1E-2', 'GHS', 1n],
    ];
    for (const [text, currency, minor] of cases)
      assert.deepEqual(parseAmount(text, currency), { ok: true, minor }, text);
  });

  it('refuses zero, negatives, excess precision, out of range and non-numbers with a reason', () => {
    const cases: [string, string, RegExp][] = [
      ['0', 'GHS', /greater than 0/],
      ['-5', 'GHS', /greater than 0/],
      ['475.666', 'GHS', /at most 2 decimal places/],
      ['475.660', 'GHS', /at most 2 decimal places/],
      ['100.5', 'UGX', /whole number/],
      ['1000000000000.01', 'GHS', /at most 10\^12/],
      ['1e13', 'GHS', /at most 10\^12/],
      ['12,50', 'GHS', /positive decimal/],
      ['0x10', 'GHS', /positive decimal/],
      ['', 'GHS', /positive decimal/],
    ];
    for (const [text, currency, message] of cases) {
      const result = parseAmount(text, currency);
      assert.ok(!result.ok, text);
      assert.match(result.message, message, text);
    }
  });

  it('formats minor units as the canonical decimal string of the currency', () => {
    assert.equal(formatAmount(47566n, 'GHS'), '475.66');
    assert.equal(formatAmount(5n, 'USD'), '0.05');
    assert.equal(formatAmount(150n, 'UGX'), '150');
    assert.equal(formatAmount(100000000000000n, 'GHS'), '1000000000000.00');
  });

  it('converts between currencies only when the value fits the minor units', () => {
    assert.equal(convertMinor(10000n, 'GHS', 'UGX'), 100n);
    assert.equal(convertMinor(47566n, 'GHS', 'UGX'), null);
    assert.equal(convertMinor(150n, 'UGX', 'USD'), 15000n);
  });

  it('keeps a JSON number in a money field as the digits the client wrote', () => {
    const parsed = parseJsonExact('{"transaction_amount": 0.30000000000000004, "other": 0.1}') as Record<
      string,
      unknown
    >;
    assert.equal(parsed.transaction_amount, '0.30000000000000004');
    assert.equal(parsed.other, 0.1);
    assert.equal(
      (parseJsonExact('{"transaction_amount": 1e2}') as Record<string, unknown>).transaction_amount,
      '1e2',
    );
  });
});
