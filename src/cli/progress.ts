/** A progress bar with bytes, rate and ETA, on a TTY only (scripts and --json get none). */
import cliProgress from 'cli-progress';
import { formatBytes } from './output.js';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function startProgress(label: string, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {doneH} / {totalH} | {rate} | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { doneH: '0 B', totalH: '?', rate: '-' });
  return {
    update(done, total) {
      const seconds = (Date.now() - started) / 1000;
      bar.setTotal(Math.max(total, 1));
      bar.update(done, { doneH: formatBytes(done), totalH: formatBytes(total), rate: seconds > 0 ? `${formatBytes(done / seconds)}/s` : '-' });
    },
    stop() {
      bar.stop();
    },
  };
}
