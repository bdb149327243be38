/** A progress bar with bytes, rate and ETA, on a TTY only (scripts and --json get none). */
import { systemClock } from '../base/clock.js';
import { createRequire } from 'node:module';
import type cliProgressTypes from 'cli-progress';
import { formatBytes } from './output.js';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function startProgress(label: string, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  // Loaded only for a terminal: 8 ms of every scripted command's start otherwise.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof cliProgressTypes;
  const started = systemClock.now();
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
      const seconds = (systemClock.now() - started) / 1000;
      bar.setTotal(Math.max(total, 1));
      bar.update(done, { doneH: formatBytes(done), totalH: formatBytes(total), rate: seconds > 0 ? `${formatBytes(done / seconds)}/s` : '-' });
    },
    stop() {
      bar.stop();
    },
  };
}
