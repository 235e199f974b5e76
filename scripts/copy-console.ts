/**
 * Part of `npm run build`: tsc compiles only TypeScript, so the console's static files (plain
 * modules, stylesheet, page) are copied beside the compiled console plugin, which serves them
 * from its own directory in src/ and in dist/ alike.
 */
import { cpSync, rmSync } from 'node:fs';

rmSync('dist/console/public', { recursive: true, force: true });
cpSync('src/console/public', 'dist/console/public', { recursive: true });
