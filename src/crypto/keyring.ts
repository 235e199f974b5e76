import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { IntegrityError } from '../errors.ts';

/**
 * AES-256-GCM for personal data at rest. A sealed value is
 *   v1.<key id>.<96-bit IV>.<ciphertext>.<128-bit tag>   (base64url parts)
 * with associated data binding it to its place (e.g. "transactions/<id>/full_name"), so a
 * ciphertext copied onto another record or field fails authentication. The key id lets old
 * values be read while new ones use the current key, which is what makes rotation possible.
 */
export interface Keyring {
  readonly currentKeyId: string;
  seal(plaintext: string, associatedData: string): string;
  /** Throws IntegrityError when the value was tampered with or its key is unknown. */
  open(sealed: string, associatedData: string): string;
  /** The key id a sealed value was written with (for re-encryption), or null if malformed. */
  keyIdOf(sealed: string): string | null;
  /** HMAC-SHA256 under a key derived from the current key; verifiable while that key is kept. */
  sign(purpose: string, data: string): string;
  verify(purpose: string, data: string, signature: string): boolean;
}

export interface KeyEntry {
  readonly id: string;
  readonly key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** Parses `id:base64key,id2:base64key` (current key first); every key must be 32 bytes. */
export function parseKeys(text: string): KeyEntry[] {
  const entries = text.split(',').map((part) => {
    const [id = '', material = ''] = part.trim().split(':');
    const key = Buffer.from(material, 'base64');
    if (!KEY_ID.test(id) || key.length !== 32) {
      throw new Error('ENCRYPTION_KEYS entries must be <key id>:<base64 of 32 bytes>');
    }
    return { id, key };
  });
  if (new Set(entries.map((e) => e.id)).size !== entries.length) {
    throw new Error('ENCRYPTION_KEYS has a key id twice');
  }
  return entries;
}

export function createKeyring(keys: readonly KeyEntry[]): Keyring {
  const [current] = keys;
  if (current === undefined) throw new Error('at least one encryption key is needed');
  // KeyObjects made once: given a Buffer, every cipher call imports the key again (~4x the cost)
  const byId = new Map(keys.map((k) => [k.id, createSecretKey(k.key)]));
  const currentKey = createSecretKey(current.key);
  const macKeys = new Map(
    keys.map((k) => [k.id, createSecretKey(createHmac('sha256', k.key).update('fido/mac-key').digest())]),
  );

  const mac = (keyId: string, purpose: string, data: string): Buffer | null => {
    const key = macKeys.get(keyId);
    return key === undefined ? null : createHmac('sha256', key).update(`${purpose}\n${data}`).digest();
  };

  return {
    currentKeyId: current.id,
    seal(plaintext, associatedData) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv);
      cipher.setAAD(Buffer.from(associatedData, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        'v1',
        current.id,
        iv.toString('base64url'),
        body.toString('base64url'),
        tag.toString('base64url'),
      ].join('.');
    },
    open(sealed, associatedData) {
      const [version, keyId = '', iv = '', body = '', tag = '', ...rest] = sealed.split('.');
      const key = byId.get(keyId);
      if (version !== 'v1' || rest.length > 0 || key === undefined) {
        throw new IntegrityError(`sealed value with unknown format or key id`);
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
          authTagLength: 16,
        });
        decipher.setAAD(Buffer.from(associatedData, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        throw new IntegrityError(`sealed value failed authentication (key id ${keyId})`);
      }
    },
    keyIdOf(sealed) {
      const [version, keyId] = sealed.split('.');
      return version === 'v1' && keyId !== undefined && byId.has(keyId) ? keyId : null;
    },
    sign(purpose, data) {
      const digest = mac(current.id, purpose, data);
      return `${current.id}.${(digest ?? Buffer.alloc(0)).toString('base64url')}`;
    },
    verify(purpose, data, signature) {
      const [keyId = '', given = ''] = signature.split('.');
      const expected = mac(keyId, purpose, data);
      const actual = Buffer.from(given, 'base64url');
      return expected !== null && actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}
