/** The value of `--name` as an integer from 1 to `max`; otherwise says so and exits 2 (a usage error). */
export function boundedInt(name: string, text: string | undefined, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    process.stderr.write(`--${name} must be an integer 1-${max}\n`);
    process.exit(2);
  }
  return value;
}
