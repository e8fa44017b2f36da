import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { basename, dirname, isAbsolute } from "node:path";
import type { Readable, Writable } from "node:stream";
import type { FrameWriter } from "./frame-writer.ts";

/** How much of tar's stderr is kept for the error message. */
const STDERR_KEEP_BYTES = 16 * 1024;

function captureStderr(child: ChildProcess): () => string {
  let text = "";
  (child.stderr as Readable).on("data", (chunk: Buffer) => {
    if (text.length < STDERR_KEEP_BYTES) text += chunk.toString("utf8");
  });
  return () => text.trim().slice(0, STDERR_KEEP_BYTES);
}

function whenWritable(stream: Writable, cb: () => void): void {
  if (stream.destroyed || stream.writableFinished) {
    cb();
    return;
  }
  const events = ["drain", "close", "error", "finish"] as const;
  const fire = (): void => {
    for (const e of events) stream.off(e, fire);
    cb();
  };
  for (const e of events) stream.on(e, fire);
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; error?: Error }> {
  return new Promise((resolve) => {
    child.once("error", (error) => resolve({ code: null, error }));
    child.once("close", (code) => resolve({ code }));
  });
}

/**
 * An upload in progress: bytes from `put-data` frames are piped into `tar -x` in the target
 * directory. The channel is paused while tar is behind, so a large upload cannot pile up in
 * agent memory.
 */
export class PutTransfer {
  readonly id: number;
  readonly #writer: FrameWriter;
  #child: ChildProcess | undefined;
  #stdin: Writable | undefined;
  #ready: Promise<void>;
  #failure: string | undefined;
  #stderr: () => string = () => "";
  #exit: Promise<{ code: number | null; error?: Error }> | undefined;

  constructor(id: number, dir: string, writer: FrameWriter) {
    this.id = id;
    this.#writer = writer;
    this.#ready = this.#start(dir).catch((err: Error) => {
      this.#failure = err.message;
    });
  }

  async #start(dir: string): Promise<void> {
    if (!isAbsolute(dir)) throw new Error(`target directory "${dir}" is not absolute`);
    await mkdir(dir, { recursive: true });
    const child = spawn("tar", ["-x", "-p", "--no-same-owner", "-f", "-", "-C", dir], {
      stdio: ["pipe", "ignore", "pipe"],
    });
    this.#child = child;
    this.#stdin = child.stdin as Writable;
    // EPIPE when tar gave up early; the exit status carries the real reason.
    this.#stdin.on("error", () => undefined);
    this.#stderr = captureStderr(child);
    this.#exit = exitOf(child);
  }

  /**
   * Feeds a chunk; calls `pause` when tar is behind and exactly one `resume` once it caught up
   * or went away (tar may exit before reading the archive's trailing padding).
   */
  write(chunk: Buffer, pause: () => void, resume: () => void): void {
    if (this.#stdin) {
      if (!this.#stdin.write(chunk)) {
        pause();
        whenWritable(this.#stdin, resume);
      }
      return;
    }
    // Still creating the directory: hold the channel until tar exists.
    pause();
    void this.#ready.then(() => {
      if (this.#stdin && !this.#stdin.write(chunk)) whenWritable(this.#stdin, resume);
      else resume();
    });
  }

  /** Ends the stream and reports `ok` or `error` once tar finished. */
  async end(): Promise<void> {
    await this.#ready;
    if (this.#failure === undefined && this.#stdin && this.#exit) {
      this.#stdin.end();
      const { code, error } = await this.#exit;
      if (error) this.#failure = `could not run tar: ${error.message}`;
      else if (code !== 0) this.#failure = `tar -x exited with ${code}: ${this.#stderr()}`;
    }
    if (this.#failure !== undefined) {
      this.#writer.send({ type: "error", id: this.id, code: "PUT_FAILED", message: this.#failure });
    } else {
      this.#writer.send({ type: "ok", id: this.id });
    }
  }

  /** Stops tar; what was extracted so far stays. */
  cancel(): void {
    this.#child?.kill("SIGKILL");
  }
}

/**
 * A download in progress: `tar -c` of one path, entries relative to its parent, streamed as
 * `get-data` frames with the channel's backpressure, then `get-end` or `error`.
 */
export class GetTransfer {
  readonly id: number;
  readonly #writer: FrameWriter;
  #child: ChildProcess | undefined;
  #cancelled = false;

  constructor(id: number, writer: FrameWriter) {
    this.id = id;
    this.#writer = writer;
  }

  /** Streams the archive; never rejects. */
  async run(path: string): Promise<void> {
    if (!isAbsolute(path)) {
      this.#writer.send({
        type: "error",
        id: this.id,
        code: "GET_FAILED",
        message: `path "${path}" is not absolute`,
      });
      return;
    }
    const name = basename(path) || ".";
    const child = spawn("tar", ["-c", "-f", "-", "-C", dirname(path), "--", name], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    const stderr = captureStderr(child);
    const exit = exitOf(child);
    const stdout = child.stdout as Readable;
    stdout.on("data", (chunk: Buffer) => {
      if (!this.#writer.send({ type: "get-data", id: this.id }, chunk)) {
        stdout.pause();
        this.#writer.onDrain(() => stdout.resume());
      }
    });
    const { code, error } = await exit;
    if (this.#cancelled) return;
    if (error || code !== 0) {
      const message = error
        ? `could not run tar: ${error.message}`
        : `tar -c exited with ${code}: ${stderr()}`;
      this.#writer.send({ type: "error", id: this.id, code: "GET_FAILED", message });
    } else {
      this.#writer.send({ type: "get-end", id: this.id });
    }
  }

  /** Stops the archive; no further frames are sent for it. */
  cancel(): void {
    this.#cancelled = true;
    this.#child?.kill("SIGKILL");
  }
}
