/**
 * A fault-injecting TCP proxy (node:net) to put between an HTTP client and a server such as RGW.
 *
 * It makes every connection carry exactly one request: it rewrites the request's Connection header
 * to `close`, so the server ends the connection after its response and the client does not reuse
 * it. Faults can therefore be planned per request: a plan is called with each request's number,
 * method, path and headers and returns the fault to inject (or nothing, to pass it through).
 *
 * Byte offsets (afterBytes, atByte) count from the first byte of the request or response, head
 * included. `stats` counts faults that really took effect, so a test can assert they happened.
 */
import net from 'node:net';

export type Fault =
  /** Close both connections after forwarding this many bytes of the request (a dropped upload). */
  | { kind: 'drop-request'; afterBytes: number }
  /** Close both connections after forwarding this many bytes of the response (a dropped download). */
  | { kind: 'drop-response'; afterBytes: number }
  /** Answer the request itself with this status and S3 error code (503 SlowDown, 500 InternalError...). */
  | { kind: 'respond'; status: number; code: string; message?: string }
  /** Forward this many bytes of the response, then nothing more while keeping the connection open. */
  | { kind: 'stall'; afterBytes?: number }
  /** Flip the bits of one byte of the request / the response. */
  | { kind: 'corrupt-request'; atByte: number }
  | { kind: 'corrupt-response'; atByte: number }
  /** Reset the client's connection (TCP RST) as soon as the request head arrived. */
  | { kind: 'reset' };

export interface RequestInfo {
  /** 1 for the first request through the proxy, 2 for the second... */
  index: number;
  method: string;
  path: string;
  headers: Record<string, string>;
}

export type FaultPlan = (request: RequestInfo) => Fault | undefined;

export interface FaultProxyStats {
  requests: number;
  /** Requests in flight now (head received, response not yet complete), and the most seen at once. */
  inFlight: number;
  peakInFlight: number;
  /** Faults that took effect, by kind. */
  injected: Record<string, number>;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly stats: FaultProxyStats;
  /** Replace the plan (and start counting injected faults and the peak of requests in flight afresh). */
  setPlan(plan: FaultPlan | undefined): void;
  close(): Promise<void>;
}

/** A plan that injects `fault` into every nth request that `match` accepts (all requests by default). */
export function everyNth(n: number, fault: Fault, match: (request: RequestInfo) => boolean = () => true): FaultPlan {
  let seen = 0;
  return (request) => {
    if (!match(request)) return undefined;
    seen++;
    return seen % n === 0 ? fault : undefined;
  };
}

/** A plan that injects `fault` into the first `count` requests that `match` accepts. */
export function firstN(count: number, fault: Fault, match: (request: RequestInfo) => boolean = () => true): FaultPlan {
  let seen = 0;
  return (request) => (match(request) && seen++ < count ? fault : undefined);
}

export async function startFaultProxy(target: { host: string; port: number }, plan?: FaultPlan): Promise<FaultProxy> {
  let current = plan;
  let index = 0;
  const stats: FaultProxyStats = { requests: 0, inFlight: 0, peakInFlight: 0, injected: {} };
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const injected = (kind: string) => {
    stats.injected[kind] = (stats.injected[kind] ?? 0) + 1;
  };

  const server = net.createServer((client) => {
    track(client);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      client.pause();
      const parsed = parseHead(head.subarray(0, end).toString('latin1'));
      const info: RequestInfo = { index: ++index, ...parsed };
      stats.requests++;
      stats.inFlight++;
      stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
      let done = false;
      const finished = () => {
        if (!done) stats.inFlight--;
        done = true;
      };
      client.on('close', finished);
      const fault = current?.(info);
      const rest = head.subarray(end + 4);
      handle(client, rewriteHead(parsed.lines), rest, info, fault, finished);
    };
    client.on('data', onData);
  });

  function handle(client: net.Socket, newHead: Buffer, rest: Buffer, info: RequestInfo, fault: Fault | undefined, finished: () => void): void {
    if (fault?.kind === 'reset') {
      injected('reset');
      client.resetAndDestroy();
      return;
    }
    if (fault?.kind === 'respond') {
      respondItself(client, rest, info, fault, finished);
      return;
    }
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    let stalled = false;
    // A stalled response keeps the client waiting even after the server has finished.
    upstream.on('end', finished);
    upstream.on('close', () => (stalled ? undefined : client.end()));
    client.on('close', () => upstream.destroy());
    const closeBoth = (kind: string) => {
      injected(kind);
      client.destroy();
      upstream.destroy();
    };
    let sent = 0;
    const toServer = (chunk: Buffer) => {
      if (fault?.kind === 'corrupt-request' && fault.atByte >= sent && fault.atByte < sent + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[fault.atByte - sent] ^= 0xff;
        injected('corrupt-request');
      }
      if (fault?.kind === 'drop-request' && sent + chunk.length > fault.afterBytes) {
        upstream.write(chunk.subarray(0, Math.max(0, fault.afterBytes - sent)));
        closeBoth('drop-request');
        return;
      }
      sent += chunk.length;
      upstream.write(chunk);
    };
    let received = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (stalled) return;
      if (fault?.kind === 'corrupt-response' && fault.atByte >= received && fault.atByte < received + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[fault.atByte - received] ^= 0xff;
        injected('corrupt-response');
      }
      if (fault?.kind === 'drop-response' && received + chunk.length > fault.afterBytes) {
        client.write(chunk.subarray(0, Math.max(0, fault.afterBytes - received)));
        closeBoth('drop-response');
        return;
      }
      if (fault?.kind === 'stall' && received + chunk.length > (fault.afterBytes ?? 0)) {
        client.write(chunk.subarray(0, Math.max(0, (fault.afterBytes ?? 0) - received)));
        stalled = true;
        injected('stall');
        return;
      }
      received += chunk.length;
      client.write(chunk);
    });
    upstream.on('connect', () => {
      toServer(Buffer.concat([newHead, rest]));
      client.on('data', toServer);
      client.resume();
    });
  }

  /** Answers like an S3 server would, once the request body (if any, unless 100-continue) is in. */
  function respondItself(client: net.Socket, rest: Buffer, info: RequestInfo, fault: Extract<Fault, { kind: 'respond' }>, finished: () => void): void {
    let pending = Number(info.headers['content-length'] ?? 0) - rest.length;
    const expectsContinue = /100-continue/i.test(info.headers.expect ?? '');
    const answer = () => {
      const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>${fault.message ?? 'injected by the fault proxy'}</Message><RequestId>fault-${info.index}</RequestId></Error>`;
      client.end(
        `HTTP/1.1 ${fault.status} ${fault.code}\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `x-amz-request-id: fault-${info.index}\r\nConnection: close\r\n\r\n${body}`,
      );
      injected('respond');
      finished();
      // A client still sending a body it was told not to send may never close its side: do it.
      setTimeout(() => client.destroy(), 2000).unref();
    };
    if (pending <= 0 || expectsContinue) {
      answer();
      return;
    }
    client.on('data', (chunk: Buffer) => {
      pending -= chunk.length;
      if (pending <= 0) answer();
    });
    client.resume();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    setPlan(next) {
      current = next;
      stats.injected = {};
      stats.peakInFlight = stats.inFlight;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseHead(text: string): { method: string; path: string; headers: Record<string, string>; lines: string[] } {
  const lines = text.split('\r\n');
  const [method = '', path = ''] = (lines[0] ?? '').split(' ');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { method, path, headers, lines };
}

/** The request head with `Connection: close`, so that one connection carries one request. */
function rewriteHead(lines: string[]): Buffer {
  const kept = lines.filter((line, i) => i === 0 || !/^(connection|keep-alive)\s*:/i.test(line));
  return Buffer.from(`${kept.join('\r\n')}\r\nConnection: close\r\n\r\n`, 'latin1');
}
