/** The batch's progress line on stderr: rows done of all, failures, rate and time left. */

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function progressText(p: { finished: number; total: number; failed: number; finishedNow: number; elapsedMs: number }): string {
  const rate = p.elapsedMs > 0 ? (p.finishedNow * 1000) / p.elapsedMs : 0;
  const left = p.total - p.finished;
  const eta = rate > 0 ? formatDuration(left / rate) : '?';
  const pct = p.total ? Math.floor((100 * p.finished) / p.total) : 100;
  return `Batch: ${p.finished}/${p.total} rows (${pct} %)${p.failed ? `, ${p.failed} failed` : ''}, ${rate.toFixed(1)} rows/s, ETA ${eta}`;
}

/** Rewrites one line in a terminal; elsewhere (a log file) prints a line every few seconds. */
export class BatchProgress {
  private readonly t0 = performance.now();
  private last = -Infinity;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly total: number, private readonly finishedBefore: number) {}

  update(finishedNow: number, failed: number, force = false): void {
    const now = performance.now();
    if (!force && now - this.last < (this.tty ? 100 : 5000)) return;
    this.last = now;
    const text = progressText({ finished: this.finishedBefore + finishedNow, total: this.total, failed, finishedNow, elapsedMs: now - this.t0 });
    process.stderr.write(this.tty ? `\r${text}\x1b[K` : `${text}\n`);
  }

  message(text: string): void {
    process.stderr.write(this.tty ? `\r${text}\x1b[K` : `${text}\n`);
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}
