/*
 * Binary frames of the viewer socket's MSE transport, shared by the centre and the page (no
 * imports: the page bundles this file).
 */
/**
 * A binary frame of the MSE transport: one byte giving the tile handle's length, the handle
 * (ASCII, as the schema allows), then fMP4 bytes (an init or a media segment).
 */
export function encodeMseFrame(tile: string, fmp4: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + tile.length + fmp4.length);
  out[0] = tile.length;
  for (let i = 0; i < tile.length; i++) out[1 + i] = tile.charCodeAt(i);
  out.set(fmp4, 1 + tile.length);
  return out;
}

/** The tile handle and fMP4 bytes of a binary frame, or undefined when it is not one. */
export function decodeMseFrame<B extends ArrayBufferLike>(frame: Uint8Array<B>): { tile: string; fmp4: Uint8Array<B> } | undefined {
  const len = frame[0];
  if (frame.length < 1 + len || len === 0) return undefined;
  return { tile: String.fromCharCode(...frame.subarray(1, 1 + len)), fmp4: frame.subarray(1 + len) };
}
