/**
 * Live progress of a runbook on stderr: a line per step as it starts and ends; on a terminal the
 * running step's line is redrawn every half second with its elapsed time (and bytes, for a
 * restore). Scripts and --json get nothing here; their result is the report on stdout.
 */
import { systemClock } from '../base/clock.js';
import type { RunEvent } from '../control/runbook-exec.js';
import { formatBytes } from './output.js';

export interface RunProgress {
  onEvent(e: RunEvent): void;
  stop(): void;
}

export function runProgress(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): RunProgress {
  if (!enabled) return { onEvent: () => {}, stop: () => {} };
  const tty = stream.isTTY;
  let current: { label: string; started: number; bytes?: string } | undefined;
  const draw = () => {
    if (!current) return;
    const s = ((systemClock.now() - current.started) / 1000).toFixed(1);
    stream.write(`\r\x1b[K${current.label} … ${s} s${current.bytes ? `  ${current.bytes}` : ''}`);
  };
  const timer = tty ? setInterval(draw, 500) : undefined;
  timer?.unref();
  const line = (text: string) => stream.write(`${tty && current ? '\r\x1b[K' : ''}${text}\n`);
  return {
    onEvent(e) {
      if (e.type === 'step-start') {
        current = { label: `[${e.index + 1}/${e.total}] ${e.step.name}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`, started: systemClock.now() };
        if (tty) draw();
        else line(`${current.label} …`);
      } else if (e.type === 'progress' && current) {
        current.bytes = `${formatBytes(e.bytesDone)} / ${formatBytes(e.bytesTotal)}`;
      } else if (e.type === 'step-retry') {
        line(`[${e.index + 1}] ${e.step.name}: attempt ${e.attempt} failed: ${e.error.split('\n')[0]} (again in ${(e.delayMs / 1000).toFixed(0)} s)`);
      } else if (e.type === 'step-end') {
        const r = e.record;
        const what = r.status === 'ok' ? 'ok' : r.status === 'skipped' ? 'skipped' : `FAILED: ${(r.error ?? '').split('\n')[0]}`;
        line(`[${e.index + 1}/${e.total}] ${r.name} ${what} (${r.seconds.toFixed(2)} s${r.attempts > 1 ? `, ${r.attempts} attempts` : ''})`);
        current = undefined;
      } else if (e.type === 'note') {
        line(e.message);
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      if (tty && current) stream.write('\r\x1b[K');
    },
  };
}
