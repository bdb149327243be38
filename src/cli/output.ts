/** Output for people (tables, sizes) and for scripts (one JSON document on stdout). */

export interface Output {
  json: boolean;
  /** The result: JSON in --json mode, otherwise the human rendering. */
  result(value: unknown, human: () => string): void;
  /** Progress and notes for people: stderr, never mixed into JSON on stdout. */
  info(message: string): void;
  warn(message: string): void;
}

export function makeOutput(json: boolean, quiet = false): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n');
    },
    info(message) {
      if (!quiet && !json) process.stderr.write(message + '\n');
    },
    warn(message) {
      process.stderr.write(`warning: ${message}\n`);
    },
  };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(n)} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

export function formatRate(bytes: number, ms: number): string {
  return ms > 0 ? `${formatBytes((bytes * 1000) / ms)}/s` : '-';
}

/** A plain aligned table; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
