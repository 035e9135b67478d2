import { createServer, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP server as a camera runs one (ONVIF, snapshots): listening on `host:port` (0 picks
 * a free port), with tight timeouts so slow or stalled clients cannot pin its few sockets.
 * Rejects when the port cannot be bound.
 */
export async function listenCameraHttp(host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer();
  // requestTimeout covers receiving the request only, so ONVIF PullMessages long-polls are not cut by it.
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * Sends a whole reply with `Content-Length`, never `Transfer-Encoding: chunked`: camera firmware
 * (gSOAP and the like) answers that way, and clients written for it refuse chunked replies. Node
 * chunks any reply whose headers are written before its body is known, so every reply of the
 * simulator goes through here.
 */
export function sendComplete(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: string | Uint8Array): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...headers, 'Content-Length': bytes.byteLength });
  res.end(bytes);
}
