import type {
  MongoClient,
  ServerHeartbeatFailedEvent,
  ServerHeartbeatStartedEvent,
  ServerHeartbeatSucceededEvent,
} from 'mongodb';

export interface MonitorWatchdogOptions {
  /** The client's connectTimeoutMS and heartbeatFrequencyMS: the bounds of one check. */
  readonly connectTimeoutMS: number;
  readonly heartbeatFrequencyMS: number;
  /** Slack on top of a check's bound before it counts as stalled. */
  readonly marginMs: number;
  /** A check open this long was found; the client is being reconnected. */
  readonly onStall: (stall: { readonly address: string; readonly openForMs: number }) => void;
  /** The client is connected again after a stall. */
  readonly onReconnected: () => void;
  /** A reconnection attempt failed (the server is still away); it is retried. */
  readonly onError: (error: unknown) => void;
}

export interface MonitorWatchdog {
  /** Stops watching and waits for a reconnection in progress; call before closing the client. */
  stop(): Promise<void>;
}

const RETRY_CONNECT_MS = 1_000;

/** The warning a stall is logged with (the fault battery counts it). */
export const MONITOR_STALLED = "MongoDB: the driver's server monitor stalled; reconnecting the client";

/**
 * Reconnects a MongoClient whose server monitor has stalled.
 *
 * The driver (mongodb 7.9) can leave a monitor check waiting forever: when the server closes every
 * connection at once (a restart), a check may write its `hello` in the instant between its
 * socket's destruction and the socket's 'close' event; the write is refused without an error and
 * the check waits for a 'drain' that never comes. The server then stays Unknown, every operation
 * fails server selection, and the process never reaches the store again although the server is
 * back. The fault battery caught an API and a worker in that state after a FerretDB restart
 * (docs/FAULTS.md). A check ends, succeeded or failed, within the socket timeout the driver gives
 * it: connectTimeoutMS, plus heartbeatFrequencyMS for an awaited (streaming) check. One open for
 * longer than that and a margin has stalled: the client is closed and connected again, which
 * replaces the monitor and the pool. Operations meanwhile fail as the store being unavailable.
 */
export function watchMonitor(client: MongoClient, options: MonitorWatchdogOptions): MonitorWatchdog {
  // per server address: when its current check started, and whether it is an awaited one
  const open = new Map<string, { readonly since: number; readonly awaited: boolean }>();
  const state = { stopped: false };
  const isStopped = () => state.stopped;
  let reconnecting: Promise<void> | undefined;

  const started = (event: ServerHeartbeatStartedEvent) => {
    open.set(event.connectionId, { since: performance.now(), awaited: event.awaited });
  };
  const ended = (event: ServerHeartbeatSucceededEvent | ServerHeartbeatFailedEvent) => {
    open.delete(event.connectionId);
  };
  client.on('serverHeartbeatStarted', started);
  client.on('serverHeartbeatSucceeded', ended);
  client.on('serverHeartbeatFailed', ended);

  const boundMs = (awaited: boolean) =>
    options.connectTimeoutMS + (awaited ? options.heartbeatFrequencyMS : 0) + options.marginMs;

  async function reconnect(): Promise<void> {
    await client.close().catch(options.onError);
    while (!isStopped()) {
      try {
        await client.connect();
        options.onReconnected();
        return;
      } catch (error) {
        options.onError(error);
        await new Promise((resolve) => setTimeout(resolve, RETRY_CONNECT_MS).unref());
      }
    }
  }

  const timer = setInterval(
    () => {
      if (reconnecting !== undefined || isStopped()) return;
      const now = performance.now();
      for (const [address, check] of open) {
        const openForMs = now - check.since;
        if (openForMs <= boundMs(check.awaited)) continue;
        open.clear(); // the old monitor's checks die with its topology
        options.onStall({ address, openForMs: Math.round(openForMs) });
        reconnecting = reconnect().finally(() => {
          reconnecting = undefined;
        });
        return;
      }
    },
    Math.max(100, Math.min(1_000, options.marginMs)),
  ).unref();

  return {
    async stop() {
      state.stopped = true;
      clearInterval(timer);
      client.off('serverHeartbeatStarted', started);
      client.off('serverHeartbeatSucceeded', ended);
      client.off('serverHeartbeatFailed', ended);
      await reconnecting;
    },
  };
}
