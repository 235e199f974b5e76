import { setTimeout as sleep } from 'node:timers/promises';
import { MONITOR_STALLED } from '../../src/adapters/mongo/mongo-monitor-watchdog.ts';
import { assigned, poll } from '../stack/wait.ts';
import type { FaultCase } from './case.ts';
import { replayCase } from './replay.ts';
import { killRedis, startServers, stopServer } from './testbed.ts';

/** The battery, in the order it runs (issue 9); the replay case keeps state, hence one table per run. */
export const faultCases = (): readonly FaultCase[] => [
  {
    name: 'kafka',
    title: 'Kafka stopped, then restarted',
    // the API never talks to Kafka: writes land in the outbox and must all answer 2xx at once
    tolerated: [],
    async inject({ settings, storage, say, check }) {
      say(`stopping Kafka for ${settings.kafkaDownSeconds} s`);
      try {
        await stopServer('kafka');
        await sleep(settings.kafkaDownSeconds * 1000);
        const backlog = await storage.outbox.backlog();
        check('events waited in the outbox while Kafka was down', backlog > 0, `backlog ${backlog}`);
        say(`outbox backlog ${backlog}; restarting Kafka`);
      } finally {
        await startServers();
      }
    },
  },
  {
    name: 'redis',
    title: 'Redis SIGKILLed, then restarted',
    // the cache fails open: no request may notice
    tolerated: [],
    async inject({ settings, stack, say, check }) {
      say('SIGKILL Redis');
      try {
        killRedis();
        await sleep(settings.outageSeconds * 1000);
        const ready = await fetch(`${stack.apis[0].address}/health/ready`);
        const body = (await ready.json()) as { checks?: { cache?: { status?: string } } };
        check(
          'the APIs stay ready with the cache degraded',
          ready.status === 200 && body.checks?.cache?.status === 'degraded',
          `${ready.status} ${JSON.stringify(body.checks?.cache)}`,
        );
      } finally {
        say('restarting Redis');
        await startServers();
      }
    },
  },
  {
    name: 'store',
    title: 'the store server (FerretDB) restarted',
    // While it is away a request may be refused with 503 + Retry-After (the client retries), never
    // a 500. A create refused so may have stored its Idempotency-Key claim before the store went
    // away and could not release it: its retry gets 409 in flight until the claim's lock expires.
    tolerated: ['unavailable_503', '503', 'idempotency_in_flight_409'],
    async inject({ settings, say }) {
      say(`stopping FerretDB for ${settings.outageSeconds} s`);
      try {
        await stopServer('mongodb');
        await sleep(settings.outageSeconds * 1000);
      } finally {
        say('restarting FerretDB');
        await startServers();
      }
    },
    after({ stack, say }) {
      // the driver's monitor can stall on the restart (src/adapters/mongo/mongo-monitor-watchdog.ts)
      for (const { name, logs } of stack.processes) {
        const stalls = logs.filter((l) => l.msg === MONITOR_STALLED).length;
        if (stalls > 0) say(`${name}: its MongoDB monitor stalled ${stalls}x; the client was reconnected`);
      }
      return Promise.resolve();
    },
  },
  {
    name: 'worker-kill',
    title: 'a worker SIGKILLed mid-batch',
    tolerated: [],
    async inject({ stack, settings, say, check }) {
      const [victim, survivor] = stack.workers;
      // mid-batch: the victim's processed count is moving under the load when it is killed
      const first = await processed(victim.address);
      await poll(async () => (await processed(victim.address)) > first, 60_000, 'worker-1 projecting');
      const before = await processed(victim.address);
      const killedAt = Date.now();
      victim.service.kill('SIGKILL');
      await victim.service.exited;
      say(`SIGKILL worker-1 after it projected ${before} events`);
      const taken = await poll(
        () => assigned(survivor.service, killedAt).length === settings.partitions,
        60_000,
        'worker-2 owns every partition',
      ).then(
        () => true,
        () => false,
      );
      check('the surviving worker took over every partition', taken, assigned(survivor.service).join(' '));
    },
  },
  replayCase(),
  {
    name: 'api-sigterm',
    title: 'an API instance SIGTERMed',
    // a request reaching the draining instance is refused with 503 before any work; the client retries
    tolerated: ['unavailable_503'],
    async inject({ stack, say, check }) {
      const [victim] = stack.apis;
      await poll(() => stack.lb.inFlight(victim.address) > 0, 10_000, 'requests in flight on api-1').catch(
        () => undefined,
      );
      const inFlight = stack.lb.inFlight(victim.address);
      say(`SIGTERM api-1 with ${inFlight} requests in flight`);
      const exit = await victim.service.stop(30_000);
      const stopped = victim.service.logs.find((l) => l.msg === 'stopped');
      check('api-1 exits 0 after draining', exit.code === 0 && stopped?.ok === true, JSON.stringify(exit));
      check(
        'no request was cut off (in-flight requests finished)',
        stack.lb.failures.length === 0,
        `${stack.lb.failures.length} answered 502 by the balancer: ${JSON.stringify(stack.lb.failures)}`,
      );
      check('the balancer moved on', !stack.lb.healthy(victim.address), '');
    },
  },
];

/** events_processed_total from a worker's /metrics (0 before its first event). */
async function processed(address: string): Promise<number> {
  const text = await (await fetch(`${address}/metrics`)).text();
  const line = /^fido_events_processed_total(?:\{[^}]*\})? (\d+)/m.exec(text);
  return Number(line?.[1] ?? 0);
}
