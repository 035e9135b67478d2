import type { FeedPacket } from './feed-packet';
import type { RelayBatch } from './shard-messages';

/** Packets as one {@link RelayBatch}: per packet [length, timestamp, flags] and the payloads back to back. */
export function packBatch(batch: readonly Pick<FeedPacket, 'payload' | 'timestamp' | 'marker'>[]): { meta: Uint32Array<ArrayBuffer>; data: Uint8Array<ArrayBuffer> } {
  let bytes = 0;
  for (const p of batch) bytes += p.payload.length;
  const meta = new Uint32Array(batch.length * 3);
  const data = new Uint8Array(bytes);
  let at = 0;
  batch.forEach((p, k) => {
    meta[k * 3] = p.payload.length;
    meta[k * 3 + 1] = p.timestamp;
    meta[k * 3 + 2] = p.marker ? 1 : 0;
    data.set(p.payload, at);
    at += p.payload.length;
  });
  return { meta, data };
}

/** Calls `each` for every packet of a {@link RelayBatch}, in order; payloads are views of the batch's buffer, not copies. */
export function forEachRelayed(batch: RelayBatch, each: (payload: Buffer, timestamp: number, marker: boolean) => void): void {
  let at = 0;
  for (let i = 0; i + 2 < batch.meta.length; i += 3) {
    const len = batch.meta[i];
    if (at + len > batch.data.byteLength) return;
    each(Buffer.from(batch.data.buffer, batch.data.byteOffset + at, len), batch.meta[i + 1], (batch.meta[i + 2] & 1) !== 0);
    at += len;
  }
}
