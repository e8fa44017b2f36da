/** Bytes of the fixed frame header: u32be JSON length, then u32be binary length. */
export const FRAME_HEADER_BYTES = 8;

/**
 * Largest frame (header excluded) either side accepts. Bigger frames are a protocol error, which
 * bounds the memory a hostile peer can make us buffer.
 */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;

/** Largest binary payload senders put in one frame, leaving room for the JSON part. */
export const MAX_CHUNK_BYTES = 1024 * 1024;

/** One decoded frame: the JSON text's parsed value and the (possibly empty) binary payload. */
export interface Frame {
  json: unknown;
  binary: Buffer;
}

/**
 * Serialises one frame as `[u32be jsonLength][u32be binaryLength][json utf8][binary]`.
 *
 * @example
 * stream.write(encodeFrame({ type: "ping", id: 1 }));
 */
export function encodeFrame(json: unknown, binary?: Uint8Array): Buffer {
  const text = Buffer.from(JSON.stringify(json), "utf8");
  const bin = binary ?? Buffer.alloc(0);
  if (text.length + bin.length > MAX_FRAME_BYTES) {
    throw new RangeError(
      `frame of ${text.length + bin.length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`,
    );
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(text.length, 0);
  header.writeUInt32BE(bin.length, 4);
  return Buffer.concat([header, text, bin]);
}
