/** Starting and talking to benchmark child processes (see child.ts). */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.js');

export interface Child {
  readonly url: string;
  command(cmd: string): Promise<void>;
  stop(): Promise<void>;
}

export function startChild(args: string[], quiet = true): Promise<Child> {
  const proc: ChildProcess = fork(CHILD, args, { stdio: ['ignore', 'inherit', quiet ? 'ignore' : 'inherit', 'ipc'] });
  let nextId = 0;
  const waiting = new Map<number, () => void>();
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`benchmark child ${args.join(' ')} exited with ${code}`)));
    proc.on('message', (m: { ready?: boolean; url?: string; id?: number }) => {
      if (m.id !== undefined) waiting.get(m.id)?.();
      if (!m.ready) return;
      resolve({
        url: m.url!,
        command: (cmd) =>
          new Promise<void>((r) => {
            const id = nextId++;
            waiting.set(id, r);
            proc.send({ cmd, id });
          }),
        stop: () =>
          new Promise<void>((r) => {
            proc.removeAllListeners('exit');
            proc.once('exit', () => r());
            proc.disconnect();
            setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
          }),
      });
    });
  });
}
