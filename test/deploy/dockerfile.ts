import { readRepoFile } from './compose-project.ts';

/** One Dockerfile instruction, continuation lines joined, with the stage it belongs to. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly stage: string;
}

export function dockerfileInstructions(): Instruction[] {
  const text = readRepoFile('Dockerfile')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replaceAll(/\\\n/g, ' ');
  const instructions: Instruction[] = [];
  let stage = '(global)';
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const [, keyword = '', args = ''] = match;
    if (keyword === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? args;
    instructions.push({ keyword, args: args.replaceAll(/\s+/g, ' ').trim(), stage });
  }
  return instructions;
}

/** The variables the runtime stage sets with ENV (`${ROLE}` from its ARG default). */
export function dockerfileEnv(): Record<string, string> {
  const runtime = dockerfileInstructions().filter((i) => i.stage === 'runtime');
  const args = Object.fromEntries(
    runtime.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=') as [string, string]),
  );
  const env: Record<string, string> = {};
  for (const i of runtime.filter((x) => x.keyword === 'ENV')) {
    for (const pair of i.args.split(' ')) {
      const [name = '', value = ''] = pair.split('=');
      env[name] = value.replaceAll(/\$\{(\w+)\}/g, (_, arg: string) => args[arg] ?? '');
    }
  }
  return env;
}
