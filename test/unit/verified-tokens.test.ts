import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../../src/auth/principal.ts';
import { createVerifiedTokens } from '../../src/auth/verified-tokens.ts';

const principal: Principal = { subject: 's', clientId: 's', scopes: new Set(['a']), isService: false };
const T0 = 1_800_000_000_000;

describe('verified tokens', () => {
  it('answers for a remembered token until its exp plus the clock skew, then forgets it', () => {
    const tokens = createVerifiedTokens(5);
    tokens.remember('a.b.c', principal, T0 / 1000 + 30, T0);
    assert.equal(tokens.get('a.b.c', T0 + 34_999), principal);
    assert.equal(tokens.get('a.b.c', T0 + 35_000), undefined);
    assert.equal(tokens.get('a.b.c', T0), undefined, 'an expired entry is gone, not revived');
  });

  it('keeps a long-lived token at most a minute, so a withdrawn key stops working soon', () => {
    const tokens = createVerifiedTokens(0);
    tokens.remember('a.b.c', principal, T0 / 1000 + 3600, T0);
    assert.equal(tokens.get('a.b.c', T0 + 59_999), principal);
    assert.equal(tokens.get('a.b.c', T0 + 60_000), undefined);
  });

  it('matches the exact token text only, signature included', () => {
    const tokens = createVerifiedTokens(0);
    tokens.remember('a.b.c', principal, T0 / 1000 + 30, T0);
    assert.equal(tokens.get('a.b.d', T0), undefined);
    assert.equal(tokens.get('a.b.c ', T0), undefined);
  });

  it('does not remember a token already past its exp', () => {
    const tokens = createVerifiedTokens(0);
    tokens.remember('a.b.c', principal, T0 / 1000 - 1, T0);
    assert.equal(tokens.get('a.b.c', T0 - 2_000), undefined);
  });
});
