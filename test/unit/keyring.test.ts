import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createKeyring, parseKeys } from '../../src/crypto/keyring.ts';
import { IntegrityError } from '../../src/errors.ts';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe('keyring', () => {
  it('seals with a fresh IV and the current key id, and opens what it sealed', () => {
    const ring = createKeyring(parseKeys(key('k2')));
    const a = ring.seal('Ama Mensah', 'transactions/1/full_name');
    const b = ring.seal('Ama Mensah', 'transactions/1/full_name');
    assert.notEqual(a, b);
    assert.match(a, /^v1\.k2\./);
    assert.equal(a.includes('Ama'), false);
    assert.equal(ring.open(a, 'transactions/1/full_name'), 'Ama Mensah');
    assert.equal(ring.keyIdOf(a), 'k2');
  });

  it('refuses a value moved to another record, a tampered one and an unknown key', () => {
    const ring = createKeyring(parseKeys(key('k1')));
    const sealed = ring.seal('Ama Mensah', 'transactions/1/full_name');
    assert.throws(() => ring.open(sealed, 'transactions/2/full_name'), IntegrityError);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3] ?? '', 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    parts[3] = body.toString('base64url');
    assert.throws(() => ring.open(parts.join('.'), 'transactions/1/full_name'), IntegrityError);
    assert.throws(
      () => createKeyring(parseKeys(key('other'))).open(sealed, 'transactions/1/full_name'),
      IntegrityError,
    );
  });

  it('reads values of an older key after rotation, writes with the new one', () => {
    const old = key('k1');
    const sealed = createKeyring(parseKeys(old)).seal('Kofi', 'aad');
    const rotated = createKeyring(parseKeys(`${key('k2')},${old}`));
    assert.equal(rotated.open(sealed, 'aad'), 'Kofi');
    assert.equal(rotated.keyIdOf(rotated.seal('Kofi', 'aad')), 'k2');
  });

  it('signs and verifies, refusing altered data', () => {
    const ring = createKeyring(parseKeys(key('k1')));
    const signature = ring.sign('cursor', 'abc');
    assert.equal(ring.verify('cursor', 'abc', signature), true);
    assert.equal(ring.verify('cursor', 'abd', signature), false);
    assert.equal(ring.verify('other', 'abc', signature), false);
  });

  it('rejects malformed key lists', () => {
    assert.throws(() => parseKeys('k1:short'));
    assert.throws(() => parseKeys(`${key('k1')},${key('k1')}`));
    assert.throws(() => parseKeys(`bad id:${randomBytes(32).toString('base64')}`));
  });
});
