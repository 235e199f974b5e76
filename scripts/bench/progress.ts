/**
 * A progress line on stderr: redrawn in place on a terminal, a line every 10 % otherwise (logs,
 * the smoke test), so a long seed shows it is moving without flooding a file.
 */
export interface Progress {
  tick(count?: number): void;
  done(): void;
}

export function progress(label: string, total: number): Progress {
  const tty = process.stderr.isTTY;
  const started = performance.now();
  let done = 0;
  let lastDraw = 0;
  let lastDecile = -1;

  const line = (): string => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const width = 24;
    const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '.');
    const eta = rate > 0 ? Math.max(0, (total - done) / rate) : 0;
    return (
      `${label} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
      `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ` +
      `${Math.round(rate).toLocaleString('en-US')}/s ` +
      (done < total ? `ETA ${eta.toFixed(0)} s` : `${seconds.toFixed(1)} s`)
    );
  };

  return {
    tick(count = 1) {
      done += count;
      const now = performance.now();
      if (tty) {
        if (now - lastDraw < 100) return;
        lastDraw = now;
        process.stderr.write(`\r${line()}\u001b[K`);
        return;
      }
      const decile = Math.floor((done / Math.max(1, total)) * 10);
      if (decile > lastDecile && decile < 10) {
        lastDecile = decile;
        process.stderr.write(`${line()}\n`);
      }
    },
    done() {
      process.stderr.write(tty ? `\r${line()}\u001b[K\n` : `${line()}\n`);
    },
  };
}
