import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify } from '../../src/webhooks/webhook-signature.ts';

/** One request as a webhook receiver saw it, and whether its signature and timestamp checked out. */
export interface ReceivedDelivery {
  readonly webhookId: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly verified: boolean;
  readonly status: number | 'hung';
}

/** What the receiver answers to its n-th request (0-based): a status, or never (hold the socket). */
export type Behaviour = (n: number) => number | 'hang';

export interface Receiver {
  readonly url: string;
  readonly received: ReceivedDelivery[];
  /** Requests it holds open right now, and the most it ever held at once. */
  open(): number;
  maxOpen(): number;
  /** Distinct Webhook-Ids of requests answered 2xx. */
  deliveredIds(): Set<string>;
  close(): Promise<void>;
}

/** A real HTTP receiver on loopback, port 0, verifying every request as the docs tell receivers to. */
export async function startReceiver(secret: string, behaviour: Behaviour): Promise<Receiver> {
  const received: ReceivedDelivery[] = [];
  let open = 0;
  let maxOpen = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = behaviour(received.length);
      received.push({
        webhookId: String(request.headers['webhook-id']),
        headers: request.headers,
        body,
        verified: verify(secret, request.headers, body).ok,
        status: answer === 'hang' ? 'hung' : answer,
      });
      if (answer === 'hang') {
        open += 1;
        maxOpen = Math.max(maxOpen, open);
        request.socket.once('close', () => (open -= 1));
        return;
      }
      response.writeHead(answer, { 'content-type': 'text/plain' });
      response.end(answer >= 300 ? `receiver says no (${answer})` : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    open: () => open,
    maxOpen: () => maxOpen,
    deliveredIds: () =>
      new Set(received.filter((r) => typeof r.status === 'number' && r.status < 300).map((r) => r.webhookId)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
