import { once } from 'node:events';
import net from 'node:net';
import type { Known } from '../../scripts/stack/load.ts';
import { newTransaction } from '../helpers.ts';

/** What one request of the load got: an answer, or no answer at all. */
export type Outcome =
  | {
      kind: 'answer';
      status: number;
      body: Record<string, unknown>;
      contentType: string;
      afterSignal: boolean;
    }
  | { kind: 'no-answer'; afterSignal: boolean };

export interface WriteLoad {
  /** Creates answered 201, by id. */
  readonly acknowledged: Map<string, Known>;
  readonly outcomes: Outcome[];
  /** Resolves once `count` creates were acknowledged. */
  reached(count: number): Promise<void>;
  /** Marks the moment the instance was signalled: outcomes after it are flagged. */
  signalled(): void;
  /** Resolves when every lane stopped. */
  readonly done: Promise<void>;
}

/**
 * Creates from `lanes` concurrent clients (each a keep-alive connection of fetch) against one
 * instance. After the signal, a lane stops at its first 201 (a client with nothing more to send
 * leaves its connection idle: the instance must close it, not wait for the client) or at the
 * first request that gets no answer (the instance is gone).
 */
export function startWriteLoad(options: {
  url: string;
  token: string;
  users: readonly string[];
  lanes: number;
}): WriteLoad {
  const acknowledged = new Map<string, Known>();
  const outcomes: Outcome[] = [];
  const state = { signalled: false };
  const waiters: { count: number; resolve: () => void }[] = [];

  const lane = async (lane: number) => {
    for (let i = 0; i < 10_000; i++) {
      const userId = options.users[(lane + i * options.lanes) % options.users.length] ?? '';
      const amountMinor = BigInt(100 + ((lane * 7919 + i * 104729) % 99_900));
      const type = i % 3 === 0 ? 'debit' : 'credit';
      let res: Response;
      try {
        res = await fetch(`${options.url}/api/v1/transactions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(
            newTransaction(userId, {
              transaction_amount: `${amountMinor / 100n}.${String(amountMinor % 100n).padStart(2, '0')}`,
              transaction_type: type,
              transaction_date: `2024-10-${String(1 + (i % 28)).padStart(2, '0')}T12:00:00Z`,
            }),
          ),
          signal: AbortSignal.timeout(20_000),
        });
      } catch {
        outcomes.push({ kind: 'no-answer', afterSignal: state.signalled });
        return;
      }
      const body = (await res.json()) as Record<string, unknown>;
      const contentType = res.headers.get('content-type') ?? '';
      outcomes.push({ kind: 'answer', status: res.status, body, contentType, afterSignal: state.signalled });
      if (res.status !== 201) continue;
      acknowledged.set(String(body.id), { userId, amountMinor, type, deleted: false });
      for (const w of waiters) if (acknowledged.size >= w.count) w.resolve();
      if (state.signalled) return;
    }
  };

  return {
    acknowledged,
    outcomes,
    reached: (count) =>
      new Promise<void>((resolve) => {
        if (acknowledged.size >= count) resolve();
        else waiters.push({ count, resolve });
      }),
    signalled: () => {
      state.signalled = true;
    },
    done: Promise.all(Array.from({ length: options.lanes }, (_, i) => lane(i))).then(() => undefined),
  };
}

export interface LateRequest {
  /** Sends the rest of the request; resolves with the raw answer once the server closes. */
  finish(): Promise<string>;
}

/** A raw connection that has sent only the first line of a request: it is in progress, not idle. */
export async function startLateRequest(url: string, token: string): Promise<LateRequest> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await once(socket, 'connect');
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (answer += chunk));
  const closed = once(socket, 'close');
  socket.write('GET /api/v1/users/late/analytics HTTP/1.1\r\n');
  return {
    async finish() {
      socket.write(`Host: ${hostname}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      await closed;
      return answer;
    },
  };
}
