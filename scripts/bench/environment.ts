import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { MongoClient } from 'mongodb';
import { createClient } from 'redis';
import type { TestbedUrls } from './target-testbed.ts';

/** Where and on what the numbers were measured: machine, versions, commit. */
export interface Environment {
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGiB: number;
    readonly kernel: string;
    readonly loadAverageAtStart: readonly number[];
  };
  readonly commit: string;
  readonly versions: Readonly<Record<string, string>>;
}

export async function describeEnvironment(urls: TestbedUrls | null): Promise<Environment> {
  const versions: Record<string, string> = { node: process.version };
  for (const name of ['fastify', 'mongodb', 'redis', '@platformatic/kafka', 'pino', 'autocannon']) {
    versions[name] = packageVersion(name);
  }
  if (urls !== null) {
    versions['FerretDB (server)'] = await ferretVersion(urls.mongodb);
    versions['Redis (server)'] = await redisVersion(urls.redis);
    versions['Kafka (broker)'] = kafkaVersion();
  }
  return {
    machine: {
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      cores: availableParallelism(),
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    },
    commit: commit(),
    versions,
  };
}

function packageVersion(name: string): string {
  try {
    const text = readFileSync(`node_modules/${name}/package.json`, 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? '?';
  } catch {
    return '?';
  }
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    });
    return dirty.trim() === '' ? head : `${head} (with uncommitted changes)`;
  } catch {
    return 'unknown';
  }
}

async function ferretVersion(url: string): Promise<string> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 3000 });
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    const reported: unknown = info.ferretdbVersion;
    // the test bed's build of FerretDB reports "unknown"; its go.mod names the version it embeds
    const ferret = typeof reported === 'string' && reported !== 'unknown' ? reported : ferretFromGoMod();
    return `${ferret} (reports MongoDB ${String(info.version)})`;
  } catch {
    return '?';
  } finally {
    await client.close();
  }
}

async function redisVersion(url: string): Promise<string> {
  const client = createClient({ url });
  try {
    await client.connect();
    const info = await client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  } catch {
    return '?';
  } finally {
    client.destroy();
  }
}

function ferretFromGoMod(): string {
  try {
    const mod = readFileSync('scripts/testbed/ferretdb/go.mod', 'utf8');
    return /github\.com\/FerretDB\/FerretDB (v\S+)/.exec(mod)?.[1] ?? '?';
  } catch {
    return '?';
  }
}

/** The version the test bed provisions (scripts/testbed/kafka/pom.xml); brokers do not report it. */
function kafkaVersion(): string {
  try {
    const pom = readFileSync('scripts/testbed/kafka/pom.xml', 'utf8');
    return /<kafka\.version>([^<]+)</.exec(pom)?.[1] ?? '?';
  } catch {
    return '?';
  }
}
