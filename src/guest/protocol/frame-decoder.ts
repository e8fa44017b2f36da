import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES } from "./frame.ts";
import type { Frame } from "./frame.ts";
import { ProtocolError } from "./protocol-error.ts";

/**
 * Incremental decoder for the framed byte stream: feed it chunks as they arrive, in any split,
 * and it returns every frame completed so far. After it throws, it stays failed.
 *
 * @example
 * const decoder = new FrameDecoder();
 * input.on("data", (chunk) => decoder.push(chunk).forEach(handle));
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed: ProtocolError | undefined;

  constructor(opts: { maxFrameBytes?: number } = {}) {
    this.#maxFrameBytes = opts.maxFrameBytes ?? MAX_FRAME_BYTES;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pendingBytes(): number {
    return this.#buffered;
  }

  /** Adds a chunk and returns the frames it completed; throws ProtocolError on a bad frame. */
  push(chunk: Uint8Array): Frame[] {
    if (this.#failed) throw this.#failed;
    if (chunk.length > 0) {
      this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      this.#buffered += chunk.length;
    }
    const frames: Frame[] = [];
    try {
      for (;;) {
        const frame = this.#next();
        if (!frame) break;
        frames.push(frame);
      }
    } catch (err) {
      this.#failed = err instanceof ProtocolError ? err : new ProtocolError(String(err));
      this.#chunks = [];
      this.#buffered = 0;
      throw this.#failed;
    }
    return frames;
  }

  #next(): Frame | undefined {
    if (this.#buffered < FRAME_HEADER_BYTES) return undefined;
    const header = this.#peek(FRAME_HEADER_BYTES);
    const jsonLength = header.readUInt32BE(0);
    const binaryLength = header.readUInt32BE(4);
    // Checked before waiting for the body, so an oversize header fails at once.
    if (jsonLength + binaryLength > this.#maxFrameBytes) {
      throw new ProtocolError(
        `frame of ${jsonLength + binaryLength} bytes exceeds the ${this.#maxFrameBytes}-byte limit`,
      );
    }
    if (jsonLength === 0) throw new ProtocolError("frame has an empty JSON part");
    const total = FRAME_HEADER_BYTES + jsonLength + binaryLength;
    if (this.#buffered < total) return undefined;
    const bytes = this.#take(total);
    const text = bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + jsonLength);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(text));
    } catch (err) {
      throw new ProtocolError(`frame JSON is not valid: ${(err as Error).message}`);
    }
    // Copy so the payload does not pin the (possibly much larger) receive buffer.
    const binary = Buffer.from(bytes.subarray(FRAME_HEADER_BYTES + jsonLength));
    return { json, binary };
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    this.#coalesce();
    return (this.#chunks[0] as Buffer).subarray(0, n);
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0];
    if (!first || first.length < n) this.#coalesce();
    const head = this.#chunks[0] as Buffer;
    const out = head.subarray(0, n);
    if (head.length === n) this.#chunks.shift();
    else this.#chunks[0] = head.subarray(n);
    this.#buffered -= n;
    return out;
  }

  #coalesce(): void {
    this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
  }
}
