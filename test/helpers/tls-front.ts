/**
 * HTTPS in front of a plain-HTTP server (the test RGW), with the certificate of
 * test/fixtures/tls (signed by a test CA no system trusts): what an on-premises RGW behind a
 * site's own CA looks like to a client.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/tls/', import.meta.url));
/** The PEM file of the test CA that signed the front's certificate. */
export const TEST_CA_FILE = `${FIXTURES}ca.pem`;

/** The key and certificate (for 127.0.0.1 and localhost) of a test server, signed by the test CA. */
export function testServerTls(): { key: Buffer; cert: Buffer } {
  return { key: readFileSync(`${FIXTURES}server.key`), cert: readFileSync(`${FIXTURES}server.pem`) };
}

export interface TlsFront {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  close(): Promise<void>;
}

export async function startTlsFront(target: { host: string; port: number }): Promise<TlsFront> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(testServerTls(), (client) => {
    const upstream = net.connect(target.port, target.host);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', end).on('close', () => {
        sockets.delete(socket);
        end();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  // A client that rejects the certificate ends the handshake: not an error of the front's.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
