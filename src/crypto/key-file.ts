import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * For the embedded default only: a secret generated once into DATA_DIR (mode 0600) and reused on
 * every start, so local data stays readable across restarts without any setup. Returns the value
 * and whether it was just created (the caller logs a warning then).
 */
export function loadOrCreateSecret(
  dataDir: string,
  fileName: string,
  create: () => string,
): { value: string; created: boolean } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, fileName);
  try {
    return { value: readFileSync(path, 'utf8').trim(), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const value = create();
  // 'wx' fails if another process created it meanwhile; then theirs wins and we read it.
  try {
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return { value, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { value: readFileSync(path, 'utf8').trim(), created: false };
  }
}

export const newEncryptionKeyEntry = (): string =>
  `local-${Date.now().toString(36)}:${randomBytes(32).toString('base64')}`;
