/**
 * deploy/haproxy/haproxy.cfg, the load balancer of docker-compose.yml, made to run on loopback.
 * Every rule below changes only what Docker provides and this machine does not; each must match
 * the production config exactly once, so a change there that a rule no longer fits fails the run
 * instead of silently running another config. Everything else (health checks and their timing,
 * balancing, retries, timeouts, headers, the /metrics rule) is production's, unchanged.
 *
 * 1. `bind :8080` and `bind :8405` (every interface of the container) become 127.0.0.1 and the
 *    ports given (loopback only; free ports).
 * 2. `server-template api- N api:3000`, slots filled from Docker's DNS, becomes one `server api-K
 *    127.0.0.1:PORT` per API process (named as the template names its slots: api-1, api-2, ...).
 * 3. `resolvers docker init-addr none` leaves the default-server line: the addresses are static.
 * 4. `global` gains `stats socket` (HAProxy's runtime API, read-only level), from which the run
 *    reads each server's state and the requests in flight on it.
 */
export interface LoopbackOptions {
  readonly publicPort: number;
  readonly healthPort: number;
  /** API base URLs, `http://127.0.0.1:PORT`. */
  readonly backends: readonly string[];
  readonly statsSocket: string;
}

interface Rule {
  readonly what: string;
  readonly pattern: RegExp;
  readonly replace: (match: string) => string;
}

export function loopbackHaproxyConfig(cfg: string, options: LoopbackOptions): string {
  const servers = options.backends.map((url, i) => {
    const { hostname, port } = new URL(url);
    if (hostname !== '127.0.0.1') throw new Error(`backend ${url} is not on loopback`);
    return `server api-${i + 1} ${hostname}:${port}`;
  });
  const rules: Rule[] = [
    {
      what: 'bind :8080',
      pattern: /^([ \t]+)bind :8080$/m,
      replace: () => `bind 127.0.0.1:${options.publicPort}`,
    },
    {
      what: 'bind :8405',
      pattern: /^([ \t]+)bind :8405$/m,
      replace: () => `bind 127.0.0.1:${options.healthPort}`,
    },
    {
      what: 'server-template api- N api:3000',
      pattern: /^([ \t]+)server-template api- \d+ api:3000$/m,
      replace: () => servers.join('\n    '),
    },
    {
      what: 'default-server … resolvers docker init-addr none',
      pattern: /^([ \t]+)default-server .* resolvers docker init-addr none$/m,
      replace: (line) => line.replace(/ resolvers docker init-addr none$/, '').trimStart(),
    },
    {
      what: 'global',
      pattern: /^()global$/m,
      replace: () => `global\n    stats socket ${options.statsSocket} mode 600 level user`,
    },
  ];
  let out = cfg;
  for (const rule of rules) {
    const matches = out.match(new RegExp(rule.pattern.source, 'gm')) ?? [];
    if (matches.length !== 1) {
      throw new Error(
        `deploy/haproxy/haproxy.cfg: "${rule.what}" matches ${matches.length} lines, not 1; ` +
          'update scripts/stack/haproxy-config.ts with the change',
      );
    }
    out = out.replace(rule.pattern, (line, indent: string) => `${indent}${rule.replace(line)}`);
  }
  return out;
}
