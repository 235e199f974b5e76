import { randomBytes, randomUUID } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * 26-character Crockford base32: 48 bits of milliseconds then 80 random bits (the ULID layout).
 * Time-ordered ids keep index inserts local; the random part makes them unguessable.
 */
export function newTransactionId(now: number = Date.now()): string {
  let time = BigInt(now);
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = (CROCKFORD[Number(time % 32n)] ?? '0') + out;
    time /= 32n;
  }
  let random = BigInt(`0x${randomBytes(10).toString('hex')}`);
  let tail = '';
  for (let i = 0; i < 16; i++) {
    tail = (CROCKFORD[Number(random % 32n)] ?? '0') + tail;
    random /= 32n;
  }
  return out + tail;
}

export const newEventId = (): string => randomUUID();
