/**
 * The S3 client's request handler: ranged GETs (over HTTP or HTTPS) are sent on sockets of our own
 * and their bodies read straight into the caller's buffer (by the kernel, or by OpenSSL as it
 * decrypts); every other request goes to the SDK's NodeHttpHandler.
 *
 * The SDK still builds and signs every request and parses every response, errors included; only
 * the transport of range reads (restore and copy move almost all their bytes with them) is ours.
 * Why: node:http hands a body over as 64 KiB Buffers, each a fresh allocation, a stream event and
 * a copy; for 333 MB of 6 MiB range reads from RGW that cost 0.5–0.6 s of client CPU, as much as
 * decrypting and decoding them. Reading with net's `onread` into the destination cost 0.05–0.08 s
 * (docs/s3.md, "Range reads"). On these two cores that CPU was taken from RGW and the decoders.
 *
 * A response is used as it comes when it is framed by Content-Length (S3 servers answer range
 * reads, and their errors, that way); anything else (chunked, or a body that ends with the
 * connection) is sent again through the NodeHttpHandler, so no framing has to be handled here.
 * Keep-alive sockets are reused, unreferenced while idle, and dropped when the server closes them.
 */
import net from 'node:net';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import type { HttpHandler, HttpRequest } from '@smithy/core/protocols';
import type { NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import type { HttpHandlerOptions } from '@smithy/types';
import { TransientError } from './retry.js';
import { smithyNodeHttp, smithyProtocols } from './s3-sdk.js';

/** A response body that can be read in parts, each straight into the caller's buffer. */
export interface DirectBody extends Readable {
  /**
   * Reads the body's next `dest.length` bytes into `dest`, calling `onProgress` as bytes arrive;
   * one part at a time, in order. Use instead of reading the stream.
   */
  readInto(dest: Uint8Array, onProgress: () => void): Promise<void>;
}

export function isDirectBody(body: unknown): body is DirectBody {
  return body instanceof Body;
}

/** A response head larger than this is refused (S3's are well under 2 KiB). */
const HEAD_LIMIT = 64 * 1024;
/** Bodies read as a stream come in pieces of up to this size, as node:http's do. */
const STREAM_PIECE = 64 * 1024;
/** Idle sockets kept per endpoint; more are closed. */
const MAX_IDLE = 32;

export interface RequestHandlerOptions extends NodeHttpHandlerOptions {
  connectionTimeout: number;
  /** The CAs trusted for HTTPS (default: Node's); the same as the https agent's. */
  ca?: string[];
}

export function createS3RequestHandler(options: RequestHandlerOptions): HttpHandler<NodeHttpHandlerOptions> {
  const fallback = new smithyNodeHttp.NodeHttpHandler(options);
  const idle = new Map<string, Connection[]>();
  const release = (conn: Connection, reusable: boolean) => {
    const pool = idle.get(conn.endpoint) ?? [];
    if (!reusable || pool.length >= MAX_IDLE) return void conn.socket.destroy();
    pool.push(conn);
    idle.set(conn.endpoint, pool);
    conn.waitIdle(() => {
      const at = pool.indexOf(conn);
      if (at >= 0) pool.splice(at, 1);
    });
  };
  const idleConnection = (endpoint: string) => {
    const pool = idle.get(endpoint) ?? [];
    for (let conn = pool.pop(); conn; conn = pool.pop()) if (!conn.closedWith && !conn.socket.destroyed) return conn;
    return undefined;
  };

  return {
    metadata: fallback.metadata,
    async handle(request: HttpRequest, handlerOptions: HttpHandlerOptions = {}) {
      if (!sentDirectly(request)) return fallback.handle(request, handlerOptions);
      const requestText = requestHead(request);
      const host = request.hostname.replace(/^\[(.*)\]$/, '$1'); // an IPv6 literal without its brackets
      const secure = request.protocol === 'https:';
      const port = request.port ?? (secure ? 443 : 80);
      const endpoint = `${request.protocol}//${host}:${port}`;
      const conn = idleConnection(endpoint) ?? (await connect({ endpoint, host, port, secure, ca: options.ca, timeoutMs: options.connectionTimeout }));
      const head = await exchange(conn, requestText, handlerOptions.abortSignal as AbortSignal | undefined);
      const length = bodyLength(head);
      if (length === undefined) {
        // A framing this transport does not read: the SDK's handler sends the request again.
        conn.socket.destroy();
        return fallback.handle(request, handlerOptions);
      }
      const body = new Body(conn, length, head.leftover, (reusable) => release(conn, reusable && head.keepAlive));
      return { response: new smithyProtocols.HttpResponse({ statusCode: head.statusCode, reason: head.reason, headers: head.headers, body }) };
    },
    updateHttpClientConfig: (key, value) => fallback.updateHttpClientConfig(key, value),
    httpHandlerConfigs: () => fallback.httpHandlerConfigs(),
    destroy() {
      for (const pool of idle.values()) for (const conn of pool.splice(0)) conn.socket.destroy();
      fallback.destroy();
    },
  };
}

function sentDirectly(request: HttpRequest): boolean {
  return request.method === 'GET' && (request.protocol === 'http:' || request.protocol === 'https:') && request.body == null && Object.keys(request.headers).some((h) => h.toLowerCase() === 'range');
}

/** A socket whose reads land wherever `next` points, handled by whoever uses it now. */
interface Connection {
  readonly endpoint: string;
  readonly socket: net.Socket;
  readonly scratch: Buffer;
  next: Uint8Array;
  /**
   * Sees each read: its length and the memory it landed in, which is `next` as it was after the
   * previous read (moving `next` between reads takes effect one read late). May move `next`;
   * false pauses reading until `socket.resume()`.
   */
  onRead: (bytes: number, landed: Uint8Array) => boolean;
  /** Bytes read after reading paused, for the next reader: TLS still hands over the records it had decrypted. */
  held: Buffer[];
  /** Called when the socket closes (with the error, if any); `closedWith` is set from then on. */
  onClose: (err: Error) => void;
  closedWith?: Error;
  /** Idle: kept reading so that a close is noticed, unreferenced so it keeps no process alive. */
  waitIdle(onClosed: () => void): void;
}

interface ConnectOptions {
  /** protocol//host:port, the key of the idle pool. */
  endpoint: string;
  host: string;
  port: number;
  /** TLS (https:), verified against `ca` or Node's CAs. */
  secure: boolean;
  ca?: string[];
  timeoutMs: number;
}

function connect({ endpoint, host, port, secure, ca, timeoutMs }: ConnectOptions): Promise<Connection> {
  const scratch = Buffer.allocUnsafe(HEAD_LIMIT);
  // The socket reads into whatever `next` is when it reads; the fields exist before it does.
  const state = { next: scratch as Uint8Array, onRead: (_bytes: number, _landed: Uint8Array): boolean => true, onClose: (_err: Error) => {} };
  const onread = { buffer: () => state.next, callback: (bytes: number, landed: Uint8Array) => state.onRead(bytes, landed) };
  // Over TLS, `onread` receives the decrypted bytes: OpenSSL writes them where `next` points
  // (tls.connect documents the option; @types/node does not declare it).
  const socket = secure
    ? tls.connect({ host, port, ca, servername: net.isIP(host) ? undefined : host, onread } as tls.ConnectionOptions)
    : net.connect({ host, port, onread });
  socket.setNoDelay(true);
  const conn: Connection = Object.assign(state, {
    endpoint,
    held: [] as Buffer[],
    socket,
    scratch,
    waitIdle(onClosed: () => void) {
      conn.next = scratch;
      // Bytes on an idle connection answer nothing: the connection is unusable.
      conn.onRead = () => {
        socket.destroy();
        return false;
      };
      conn.onClose = onClosed;
      socket.unref();
      socket.resume();
    },
  });
  let lastError: Error | undefined;
  socket.on('error', (err) => (lastError = err));
  socket.on('close', () => {
    conn.closedWith = lastError ?? connectionClosed();
    conn.onClose(conn.closedWith);
  });
  socket.setKeepAlive(true);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`connecting to ${host}:${port} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    conn.onClose = (err) => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(conn);
    });
  });
}

/** Pauses reading (returns false, for onread); reads that still come are kept in `held`. */
function hold(conn: Connection): false {
  conn.next = conn.scratch;
  conn.onRead = (bytes, landed) => {
    conn.held.push(Buffer.from(landed.subarray(0, bytes)));
    return false;
  };
  return false;
}

/** Premature end of a response: retryable (retry.ts knows this code). */
function connectionClosed(): Error {
  return Object.assign(new Error('the server closed the connection before the response was complete'), { code: 'ECONNRESET' });
}

interface ResponseHead {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  keepAlive: boolean;
  /** Body bytes that arrived with the head. */
  leftover: Buffer;
}

/** Sends the request and reads the response head; reading then pauses until the body is read. */
function exchange(conn: Connection, requestText: string, signal: AbortSignal | undefined): Promise<ResponseHead> {
  const { socket, scratch } = conn;
  return new Promise((resolve, reject) => {
    const onAbort = () => socket.destroy(signal?.reason instanceof Error ? signal.reason : new Error('request aborted'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    let received = 0;
    conn.next = scratch;
    conn.onClose = (err) => {
      done();
      reject(err);
    };
    conn.onRead = (bytes) => {
      received += bytes;
      const end = scratch.subarray(0, received).indexOf('\r\n\r\n');
      if (end < 0) {
        if (received === scratch.length) socket.destroy(new TransientError(`the response head from ${conn.endpoint} is larger than ${HEAD_LIMIT} bytes`));
        else conn.next = scratch.subarray(received);
        return true;
      }
      let head: ResponseHead;
      try {
        head = { ...parseHead(scratch.toString('latin1', 0, end)), leftover: Buffer.from(scratch.subarray(end + 4, received)) };
      } catch (err) {
        socket.destroy(err as Error);
        return false;
      }
      done();
      conn.onClose = () => {};
      resolve(head);
      return hold(conn);
    };
    socket.ref();
    socket.write(requestText);
    socket.resume();
  });
}

function requestHead(request: HttpRequest): string {
  const query = smithyProtocols.buildQueryString(request.query ?? {});
  const lines = [`GET ${request.path}${query ? `?${query}` : ''} HTTP/1.1`];
  const headers = Object.entries(request.headers);
  if (!headers.some(([name]) => name.toLowerCase() === 'host')) lines.push(`host: ${request.hostname}${request.port ? `:${request.port}` : ''}`);
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (lines.some((line) => /[\r\n\0]/.test(line))) throw new TypeError('a request line or header contains a line break');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function parseHead(text: string): Omit<ResponseHead, 'leftover'> {
  const [statusLine, ...lines] = text.split('\r\n');
  const status = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!status) throw new TransientError(`not an HTTP/1.x response: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new TransientError(`malformed response header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const connection = (headers.connection ?? '').toLowerCase();
  const keepAlive = status[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
  return { statusCode: Number(status[2]), reason: status[3], headers, keepAlive };
}

/** The body's length when Content-Length frames it (or it has none by its status); else undefined. */
function bodyLength(head: ResponseHead): number | undefined {
  if (head.headers['transfer-encoding'] !== undefined) return undefined;
  const declared = head.headers['content-length'];
  if (declared !== undefined) return /^\d+$/.test(declared) ? Number(declared) : undefined;
  return head.statusCode === 204 || head.statusCode === 304 ? 0 : undefined;
}

/**
 * A response body of known length on a paused connection: read either in parts with readInto
 * (each straight into the caller's buffer; reading pauses between parts) or as a stream. Once
 * all of it is off the socket the connection goes back for reuse; a body destroyed before that
 * takes its connection with it.
 */
class Body extends Readable implements DirectBody {
  /** Bytes taken off the socket (at most `length`). */
  private received = 0;
  /** Bytes handed to readers. */
  private delivered = 0;
  /** Received, not yet delivered: what came with the head, or the tail of a read that went past a part. */
  private pending: Buffer;
  private streaming = false;
  private released = false;
  /** False once the server sent more than it announced: the connection's framing is lost. */
  private reusable = true;
  /** Rejects the part being read, when the body fails under it. */
  private failPart?: (err: Error) => void;
  private failure?: Error;

  constructor(
    private readonly conn: Connection,
    private readonly length: number,
    leftover: Buffer,
    private readonly release: (reusable: boolean) => void,
  ) {
    super();
    this.pending = Buffer.alloc(0);
    this.takeIn(leftover);
  }

  readInto(dest: Uint8Array, onProgress: () => void): Promise<void> {
    if (this.streaming || this.failPart) return Promise.reject(new Error('the response body is already being read'));
    if (this.failure) return Promise.reject(this.failure);
    if (dest.length > this.length - this.delivered) {
      const err = new TransientError(`the response body has ${this.length - this.delivered} bytes left, ${dest.length} were asked for`);
      this.destroy(err);
      return Promise.reject(err);
    }
    for (const bytes of this.conn.held.splice(0)) this.takeIn(bytes);
    let got = this.takePending(dest);
    if (got === dest.length) return Promise.resolve();
    const { conn } = this;
    if (conn.closedWith) {
      this.destroy(conn.closedWith);
      return Promise.reject(conn.closedWith);
    }
    return new Promise<void>((resolve, reject) => {
      this.failPart = reject;
      conn.next = dest.subarray(got);
      conn.onRead = (bytes, landed) => {
        bytes = this.accept(bytes);
        const take = Math.min(bytes, dest.length - got);
        // A read into other memory (the first after a pause lands where the last one pointed) is moved into place.
        if (landed.buffer !== dest.buffer || landed.byteOffset !== dest.byteOffset + got) {
          dest.set(landed.subarray(0, take), got);
          if (bytes > take) this.pending = Buffer.from(landed.subarray(take, bytes));
        }
        got += take;
        this.delivered += take;
        onProgress();
        if (this.received === this.length) this.releaseConnection();
        if (got < dest.length) {
          conn.next = dest.subarray(got);
          return true;
        }
        this.failPart = undefined;
        resolve();
        if (this.released) return true;
        // Pause until the next part's buffer is given.
        conn.onClose = () => {};
        return hold(conn);
      };
      conn.onClose = (err) => this.destroy(err);
      conn.socket.resume();
    });
  }

  override _read(): void {
    if (this.streaming) return void (this.released || this.conn.socket.resume());
    this.streaming = true;
    for (const bytes of this.conn.held.splice(0)) this.takeIn(bytes);
    if (this.pending.length > 0) this.push(this.pending);
    this.delivered += this.pending.length;
    this.pending = Buffer.alloc(0);
    if (this.received === this.length) return void this.push(null);
    const { conn } = this;
    if (conn.closedWith) return void this.destroy(conn.closedWith);
    const piece = () => Buffer.allocUnsafe(Math.min(STREAM_PIECE, this.length - this.received));
    conn.next = piece();
    conn.onRead = (bytes, landed) => {
      bytes = this.accept(bytes);
      // A read into the connection's own scratch memory (the first after a pause) is copied out.
      const chunk = landed.buffer === conn.scratch.buffer ? Buffer.from(landed.subarray(0, bytes)) : Buffer.from(landed.buffer, landed.byteOffset, bytes);
      this.delivered += bytes;
      if (this.received === this.length) {
        this.releaseConnection();
        this.push(chunk);
        this.push(null);
        return true;
      }
      conn.next = piece();
      return this.push(chunk);
    };
    conn.onClose = (err) => this.destroy(err);
    conn.socket.resume();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.failure ??= err ?? connectionClosed();
    if (!this.released) {
      this.released = true;
      this.conn.onClose = () => {};
      this.conn.socket.destroy();
    }
    this.failPart?.(this.failure);
    this.failPart = undefined;
    // Only a reader of the stream listens for 'error'; readInto's caller gets its promise rejected.
    callback(this.streaming ? err : null);
  }

  /** Adds bytes read off the socket outside a reader (with the head, or held while paused) to pending. */
  private takeIn(bytes: Buffer): void {
    if (this.released) return;
    const n = this.accept(bytes.length);
    this.pending = this.pending.length === 0 ? bytes.subarray(0, n) : Buffer.concat([this.pending, bytes.subarray(0, n)]);
    if (this.received === this.length) this.releaseConnection();
  }

  /** Moves pending bytes into `dest`; returns how many. */
  private takePending(dest: Uint8Array): number {
    const n = Math.min(this.pending.length, dest.length);
    dest.set(this.pending.subarray(0, n));
    this.pending = this.pending.subarray(n);
    this.delivered += n;
    return n;
  }

  /** Counts `bytes` read off the socket; returns how many belong to the body (any beyond its announced length are dropped). */
  private accept(bytes: number): number {
    const room = this.length - this.received;
    if (bytes > room) {
      this.reusable = false;
      bytes = room;
    }
    this.received += bytes;
    return bytes;
  }

  private releaseConnection(): void {
    this.released = true;
    this.conn.onClose = () => {};
    this.release(this.reusable);
  }
}
