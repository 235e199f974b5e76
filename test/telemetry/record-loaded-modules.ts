/**
 * Preloaded with `node --import` into a process under test: records every module it resolves
 * (import and require alike) and writes the list to RECORD_MODULES_TO when the process exits.
 */
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const resolved = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    resolved.add(result.url);
    return result;
  },
});
process.on('exit', () => {
  const target = process.env.RECORD_MODULES_TO;
  if (target !== undefined) writeFileSync(target, JSON.stringify([...resolved]));
});
