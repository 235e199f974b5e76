import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback that can be told to stop forwarding: every byte either way is then held
 * (the connections stay open, as behind a hung server or a dead network path), and delivered in
 * order once it forwards again. Nothing is closed or refused, so no error tells the client.
 */
export interface StallingProxy {
  readonly port: number;
  /** From now on, bytes either way are held. */
  stall(): void;
  /** Delivers what was held, in order, and forwards again. */
  resume(): void;
  close(): Promise<void>;
}

export async function startStallingProxy(target: { host: string; port: number }): Promise<StallingProxy> {
  const sockets = new Set<Socket>();
  const held: { to: Socket; chunk: Buffer }[] = [];
  const state = { stalled: false };
  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (state.stalled) held.push({ to, chunk });
      else to.write(chunk);
    });
  };
  const server = createServer((downstream) => {
    const upstream = connect(target.port, target.host);
    sockets.add(downstream).add(upstream);
    forward(downstream, upstream);
    forward(upstream, downstream);
    const end = () => {
      upstream.destroy();
      downstream.destroy();
      sockets.delete(upstream);
      sockets.delete(downstream);
    };
    for (const socket of [downstream, upstream]) socket.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    port: address.port,
    stall: () => {
      state.stalled = true;
    },
    resume: () => {
      state.stalled = false;
      for (const { to, chunk } of held.splice(0)) if (!to.destroyed) to.write(chunk);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
