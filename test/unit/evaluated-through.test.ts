import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatedBefore } from '../../src/alerts/evaluated-through.ts';

const T0 = new Date('2026-11-30T10:00:00Z');
const through = { partition: 2, offset: 100n, occurredAt: T0 };
const at = (offset: bigint, ms = 0, partition = 2) => ({
  partition,
  offset,
  occurredAt: new Date(T0.getTime() + ms),
});

describe('evaluated before (alert replay safety)', () => {
  it('skips the saved position and those before it on its partition', () => {
    assert.equal(evaluatedBefore(at(100n), through), true);
    assert.equal(evaluatedBefore(at(99n, -5), through), true);
    assert.equal(evaluatedBefore(at(101n, 5), through), false);
  });

  it('never skips without a saved position, without a position, or on another partition', () => {
    assert.equal(evaluatedBefore(at(1n), null), false);
    assert.equal(evaluatedBefore(undefined, through), false);
    assert.equal(evaluatedBefore(at(1n, -5, 3), through), false);
  });

  it('does not skip a newer event at a low offset (the topic was created again)', () => {
    assert.equal(evaluatedBefore(at(0n, 60_000), through), false);
  });
});
