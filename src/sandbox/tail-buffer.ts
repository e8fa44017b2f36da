/** Keeps the last `maxBytes` of a byte stream, e.g. an agent's stderr for error messages. */
export interface TailBuffer {
  push(chunk: Buffer): void;
  /** The kept bytes as UTF-8 text, prefixed with "…" when older bytes were dropped. */
  text(): string;
}

/** Creates a {@link TailBuffer} that never holds more than `maxBytes` (default 16 KiB). */
export function createTailBuffer(maxBytes = 16 * 1024): TailBuffer {
  let chunks: Buffer[] = [];
  let size = 0;
  let dropped = false;
  return {
    push(chunk) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > maxBytes) {
        const all = Buffer.concat(chunks);
        chunks = [all.subarray(all.length - maxBytes)];
        size = maxBytes;
        dropped = true;
      }
    },
    text() {
      const body = Buffer.concat(chunks).toString("utf8");
      return dropped ? `…${body}` : body;
    },
  };
}
