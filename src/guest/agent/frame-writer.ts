import type { Writable } from "node:stream";
import { encodeFrame, MAX_CHUNK_BYTES } from "../protocol/frame.ts";
import type { AgentMessage } from "../protocol/messages.ts";

/**
 * The only way the agent writes to its channel: whole frames, in order, with the channel's
 * backpressure exposed so producers can pause their sources.
 */
export class FrameWriter {
  readonly #out: Writable;
  #closed = false;

  constructor(out: Writable) {
    this.#out = out;
    out.on("close", () => {
      this.#closed = true;
    });
  }

  /** True once the channel can take no more frames. */
  get closed(): boolean {
    return this.#closed || this.#out.destroyed || this.#out.writableEnded;
  }

  /** Writes one message; returns false when the caller should wait for {@link onDrain}. */
  send(msg: AgentMessage, binary?: Buffer): boolean {
    if (this.closed) return true;
    if (binary && binary.length > MAX_CHUNK_BYTES) {
      let ok = true;
      for (let off = 0; off < binary.length; off += MAX_CHUNK_BYTES) {
        ok = this.#out.write(encodeFrame(msg, binary.subarray(off, off + MAX_CHUNK_BYTES))) && ok;
      }
      return ok;
    }
    return this.#out.write(encodeFrame(msg, binary));
  }

  /** Calls `cb` once the channel has room again (or has closed, so nobody waits forever). */
  onDrain(cb: () => void): void {
    if (this.closed || !this.#out.writableNeedDrain) {
      cb();
      return;
    }
    let done = false;
    const fire = (): void => {
      if (done) return;
      done = true;
      this.#out.off("drain", fire);
      this.#out.off("close", fire);
      cb();
    };
    this.#out.on("drain", fire);
    this.#out.on("close", fire);
  }
}
