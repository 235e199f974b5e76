import type { Keyring } from '../crypto/keyring.ts';
import { badRequest } from '../errors.ts';
import type { HistoryPosition } from './transaction-store.port.ts';

/**
 * Keyset cursors: the last position of a page, signed (HMAC) together with the query it belongs
 * to, so a forged, garbled or transplanted cursor is refused with 400 instead of paging wrongly.
 */
export function encodeCursor(keyring: Keyring, scope: string, position: HistoryPosition): string {
  const payload = Buffer.from(JSON.stringify([position.transactionDate.getTime(), position.id])).toString(
    'base64url',
  );
  return `${payload}.${keyring.sign('history-cursor', `${scope}\n${payload}`)}`;
}

export function decodeCursor(keyring: Keyring, scope: string, cursor: string): HistoryPosition {
  const [payload = '', ...signature] = cursor.split('.');
  if (!keyring.verify('history-cursor', `${scope}\n${payload}`, signature.join('.'))) throw invalid();
  try {
    const decoded: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && typeof decoded[0] === 'number' && typeof decoded[1] === 'string') {
      return { transactionDate: new Date(decoded[0]), id: decoded[1] };
    }
  } catch {
    // fall through: a signed but unreadable payload is as invalid as an unsigned one
  }
  throw invalid();
}

const invalid = () => badRequest('invalid_cursor', 'cursor is not one this service issued for this query');
