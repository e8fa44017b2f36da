import { ActvmError } from "../shared/errors.ts";
import type { ErrorCode } from "../shared/errors.ts";
import type {
  AgentClient,
  AgentInfo,
  ExecHandle,
  ExecHandlers,
  ExecRequest,
  ExecResult,
  ExecSignal,
} from "./agent-client.ts";
import { encodeFrame, MAX_CHUNK_BYTES } from "./protocol/frame.ts";
import type { Frame } from "./protocol/frame.ts";
import { FrameDecoder } from "./protocol/frame-decoder.ts";
import type { AgentMessage, HelloMessage, HostMessage } from "./protocol/messages.ts";
import { validateAgentMessage } from "./protocol/validate-message.ts";
import { PROTOCOL_VERSION } from "./protocol/version.ts";

/** The two directions of a byte stream to an agent (child stdio, socket, device). */
export interface AgentChannel {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/** Options of {@link connectAgent}. */
export interface ConnectAgentOptions {
  /** Names the caller in error messages, e.g. "sandbox/bwrap". */
  subsystem: string;
  /** How long to wait for the agent's `hello`. Default 30 s. */
  readyTimeoutMs?: number;
  /** How long `ping` waits for its answer. Default 30 s. */
  pingTimeoutMs?: number;
}

/** An {@link AgentClient} over a live channel, with what the agent said about itself. */
export interface ConnectedAgent extends AgentClient {
  readonly hello: Readonly<HelloMessage>;
  /** Settles when the connection ended, with the error that ended it (undefined on close()). */
  readonly closed: Promise<ActvmError | undefined>;
}

const DEFAULT_COLLECT_MAX_BYTES = 16 * 1024 * 1024;
// GitHub's runner: SIGINT, 7.5 s, SIGTERM, 2.5 s, then kill the tree.
const DEFAULT_GRACE = { interrupt: 7500, terminate: 2500 };

interface Pending {
  onMessage(msg: AgentMessage, binary: Buffer): void;
  fail(err: ActvmError): void;
}

class StreamAgentClient implements ConnectedAgent {
  readonly hello: HelloMessage;
  readonly closed: Promise<ActvmError | undefined>;
  readonly #channel: AgentChannel;
  readonly #subsystem: string;
  readonly #pingTimeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #ended: ActvmError | undefined;
  #resolveClosed!: (err: ActvmError | undefined) => void;
  #detach: () => void = () => undefined;

  constructor(
    channel: AgentChannel,
    hello: HelloMessage,
    subsystem: string,
    pingTimeoutMs: number,
  ) {
    this.#channel = channel;
    this.hello = hello;
    this.#subsystem = subsystem;
    this.#pingTimeoutMs = pingTimeoutMs;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** Takes over the channel from the handshake, with the frames that arrived after hello. */
  attach(decoder: FrameDecoder, backlog: Frame[]): void {
    const input = this.#channel.input;
    const onData = (chunk: Buffer | string): void => {
      this.#receive(decoder, typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    };
    const onEnd = (): void => this.#end(this.#error("AGENT_GONE", "the channel closed"));
    const onError = (err: Error): void =>
      this.#end(this.#error("AGENT_GONE", `the channel failed: ${err.message}`, err));
    input.on("data", onData);
    input.on("end", onEnd);
    input.on("close", onEnd);
    input.on("error", onError);
    this.#channel.output.on("error", onError);
    this.#detach = () => {
      input.off("data", onData);
      input.off("end", onEnd);
      input.off("close", onEnd);
      input.off("error", onError);
    };
    try {
      for (const frame of backlog) {
        this.#dispatch(validateAgentMessage(frame.json, frame.binary), frame.binary);
      }
    } catch (err) {
      this.#fatal(err);
    }
  }

  ping(): Promise<AgentInfo> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(this.#error("AGENT_TIMEOUT", `no answer to ping within ${this.#pingTimeoutMs} ms`));
      }, this.#pingTimeoutMs);
      this.#request(
        id,
        { type: "ping", id },
        {
          onMessage: (msg) => {
            clearTimeout(timer);
            this.#pending.delete(id);
            if (msg.type === "pong") {
              const { version, node, platform, pid, time } = msg;
              resolve({ version, node, platform, pid, time });
            } else reject(this.#unexpected(msg));
          },
          fail: (err) => {
            clearTimeout(timer);
            reject(err);
          },
        },
      );
    });
  }

  exec(req: ExecRequest, handlers: ExecHandlers = {}): ExecHandle {
    const id = this.#nextId++;
    const collect = req.collect ?? [];
    const collectMaxBytes = req.collectMaxBytes ?? DEFAULT_COLLECT_MAX_BYTES;
    const collectedChunks: Buffer[][] = collect.map(() => []);
    const collectedBytes: number[] = collect.map(() => 0);
    let settled = false;
    let handlerError: unknown;
    const call = (fn: ((chunk: Buffer) => void) | undefined, chunk: Buffer): void => {
      try {
        fn?.(chunk);
      } catch (err) {
        // A throwing callback must not break the connection; it fails this command's result.
        handlerError ??= err;
      }
    };
    const result = new Promise<ExecResult>((resolve, reject) => {
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        this.#pending.delete(id);
        fn();
      };
      this.#request(
        id,
        {
          type: "exec",
          id,
          argv: req.argv,
          cwd: req.cwd,
          env: req.env,
          files: (req.files ?? []).map((f) =>
            f.mode === undefined
              ? { path: f.path, content: f.content }
              : { path: f.path, content: f.content, mode: f.mode },
          ),
          collect,
          collectMaxBytes,
          timeoutMs: req.timeoutMs ?? 0,
          graceMs: req.graceMs ?? DEFAULT_GRACE,
        },
        {
          onMessage: (msg, binary) => {
            if (msg.type === "output") {
              call(msg.stream === "stdout" ? handlers.onStdout : handlers.onStderr, binary);
            } else if (msg.type === "collect-data") {
              const index = msg.index;
              const chunks = collectedChunks[index];
              const room = collectMaxBytes - (collectedBytes[index] ?? 0);
              if (!chunks || binary.length > room) {
                return finish(() =>
                  reject(this.#error("AGENT_PROTOCOL", "bad collect-data frame")),
                );
              }
              chunks.push(binary);
              collectedBytes[index] = (collectedBytes[index] ?? 0) + binary.length;
            } else if (msg.type === "exit") {
              const bad =
                msg.collected.length !== collect.length ||
                msg.collected.some((n, i) => (n ?? 0) !== collectedBytes[i]);
              if (bad) {
                return finish(() =>
                  reject(this.#error("AGENT_PROTOCOL", "exit does not match the collected data")),
                );
              }
              if (handlerError !== undefined) return finish(() => reject(handlerError));
              finish(() =>
                resolve({
                  exitCode: msg.exitCode,
                  signal: msg.signal,
                  timedOut: msg.timedOut,
                  durationMs: msg.durationMs,
                  collected: msg.collected.map((n, i) =>
                    n === null ? null : Buffer.concat(collectedChunks[i] ?? []).toString("utf8"),
                  ),
                }),
              );
            } else if (msg.type === "error") {
              finish(() => reject(this.#error("EXEC_FAILED", msg.message)));
            } else {
              finish(() => reject(this.#unexpected(msg)));
            }
          },
          fail: (err) => finish(() => reject(err)),
        },
      );
    });
    // Callers may only await kill(); an unobserved rejection must not crash the host.
    result.catch(() => undefined);
    return {
      result,
      kill: async (signal: ExecSignal): Promise<void> => {
        if (settled) return;
        this.#send({ type: "signal", id, signal });
      },
    };
  }

  async putTar(dir: string, tar: AsyncIterable<Buffer> | Buffer): Promise<void> {
    const id = this.#nextId++;
    let failure: ActvmError | undefined;
    const done = new Promise<void>((resolve, reject) => {
      this.#request(
        id,
        { type: "put-begin", id, dir },
        {
          onMessage: (msg) => {
            this.#pending.delete(id);
            if (msg.type === "ok") resolve();
            else {
              failure =
                msg.type === "error"
                  ? this.#error("EXEC_FAILED", `could not extract into ${dir}: ${msg.message}`)
                  : this.#unexpected(msg);
              reject(failure);
            }
          },
          fail: (err) => {
            failure = err;
            reject(err);
          },
        },
      );
    });
    done.catch(() => undefined);
    const source = Buffer.isBuffer(tar) ? [tar] : tar;
    try {
      for await (const chunk of source) {
        for (let off = 0; off < chunk.length; off += MAX_CHUNK_BYTES) {
          if (failure) throw failure;
          const ok = this.#send(
            { type: "put-data", id },
            chunk.subarray(off, off + MAX_CHUNK_BYTES),
          );
          if (!ok) await this.#drained();
        }
      }
    } catch (err) {
      if (!failure) {
        this.#pending.delete(id);
        if (!this.#ended) this.#send({ type: "cancel", id });
      }
      throw err;
    }
    if (failure) throw failure;
    this.#send({ type: "put-end", id });
    return done;
  }

  /**
   * Streams the archive as the agent produces it. The transport has no per-request flow
   * control, so a reader much slower than the agent buffers the difference in host memory.
   */
  getTar(path: string): AsyncIterable<Buffer> {
    return { [Symbol.asyncIterator]: () => this.#getTarStream(path) };
  }

  async *#getTarStream(path: string): AsyncGenerator<Buffer> {
    const id = this.#nextId++;
    const queue: Buffer[] = [];
    let finished = false;
    let failure: ActvmError | undefined;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      wake?.();
      wake = undefined;
    };
    this.#request(
      id,
      { type: "get", id, path },
      {
        onMessage: (msg, binary) => {
          if (msg.type === "get-data") {
            queue.push(binary);
          } else {
            this.#pending.delete(id);
            finished = true;
            if (msg.type === "error") {
              failure = this.#error("EXEC_FAILED", `could not archive ${path}: ${msg.message}`);
            } else if (msg.type !== "get-end") {
              failure = this.#unexpected(msg);
            }
          }
          notify();
        },
        fail: (err) => {
          finished = true;
          failure = err;
          notify();
        },
      },
    );
    try {
      for (;;) {
        const chunk = queue.shift();
        if (chunk) {
          yield chunk;
          continue;
        }
        if (failure) throw failure;
        if (finished) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      if (!finished) {
        // The reader stopped early: stop the agent's tar too.
        this.#pending.delete(id);
        if (!this.#ended) this.#send({ type: "cancel", id });
      }
    }
  }

  hashFiles(root: string, patterns: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#request(
        id,
        { type: "hash-files", id, root, patterns },
        {
          onMessage: (msg) => {
            this.#pending.delete(id);
            if (msg.type === "result") resolve(msg.value);
            else if (msg.type === "error")
              reject(this.#error("EXEC_FAILED", `hashFiles: ${msg.message}`));
            else reject(this.#unexpected(msg));
          },
          fail: reject,
        },
      );
    });
  }

  async close(): Promise<void> {
    if (this.#ended) return;
    const input = this.#channel.input;
    const gone = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      input.once("end", done);
      input.once("close", done);
    });
    this.#end(this.#error("AGENT_GONE", "the connection was closed by the host"), true);
    this.#channel.output.end();
    // Drain so the agent's last frames do not hold the stream open.
    input.resume();
    await gone;
  }

  #request(id: number, msg: HostMessage, pending: Pending): void {
    if (this.#ended) {
      pending.fail(this.#ended);
      return;
    }
    let frame: Buffer;
    try {
      frame = encodeFrame(msg);
    } catch (err) {
      // Only a request over the frame limit gets here (e.g. megabytes of `files` content).
      pending.fail(this.#error("EXEC_FAILED", `request too large: ${(err as Error).message}`, err));
      return;
    }
    this.#pending.set(id, pending);
    this.#channel.output.write(frame);
  }

  #send(msg: HostMessage, binary?: Buffer): boolean {
    if (this.#ended) return true;
    return this.#channel.output.write(encodeFrame(msg, binary));
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const output = this.#channel.output;
      const done = (): void => {
        output.off("drain", done);
        output.off("close", done);
        resolve();
      };
      output.on("drain", done);
      output.on("close", done);
      void this.closed.then(done);
    });
  }

  #receive(decoder: FrameDecoder, chunk: Buffer): void {
    if (this.#ended) return;
    try {
      for (const frame of decoder.push(chunk)) {
        const msg = validateAgentMessage(frame.json, frame.binary);
        this.#dispatch(msg, frame.binary);
        if (this.#ended) return;
      }
    } catch (err) {
      this.#fatal(err);
    }
  }

  #dispatch(msg: AgentMessage, binary: Buffer): void {
    if (msg.type === "hello") {
      throw new Error("a second hello arrived");
    }
    if (msg.type === "error" && msg.id === undefined) {
      this.#end(this.#error("AGENT_PROTOCOL", `the agent reported: ${msg.message}`));
      return;
    }
    // Frames for requests the host already gave up on (cancelled gets, late output) are dropped.
    this.#pending.get(msg.id as number)?.onMessage(msg, binary);
  }

  #fatal(err: unknown): void {
    const e = this.#error("AGENT_PROTOCOL", (err as Error).message, err);
    this.#end(e);
    // A peer that breaks the protocol gets no more of our bytes.
    this.#channel.output.end();
  }

  #end(err: ActvmError, byHost = false): void {
    if (this.#ended) return;
    this.#ended = err;
    this.#detach();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.fail(err);
    this.#resolveClosed(byHost ? undefined : err);
  }

  #unexpected(msg: AgentMessage): ActvmError {
    return this.#error("AGENT_PROTOCOL", `unexpected "${msg.type}" frame`);
  }

  #error(code: ErrorCode, detail: string, cause?: unknown): ActvmError {
    return new ActvmError(code, detail, { subsystem: this.#subsystem, cause });
  }
}

/**
 * Waits for the agent's `hello` on the channel and returns a client for it. Rejects with
 * AGENT_TIMEOUT when no hello arrives in time, AGENT_GONE when the channel closes first and
 * AGENT_PROTOCOL for garbage or an agent built for another protocol version.
 *
 * @example
 * const child = spawn("node", [agentBundlePath()], { stdio: ["pipe", "pipe", "inherit"] });
 * const agent = await connectAgent({ input: child.stdout, output: child.stdin }, { subsystem: "sandbox/host" });
 */
export function connectAgent(
  channel: AgentChannel,
  opts: ConnectAgentOptions,
): Promise<ConnectedAgent> {
  const { subsystem } = opts;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const decoder = new FrameDecoder();
  const input = channel.input;
  return new Promise((resolve, reject) => {
    let done = false;
    const cleanup = (): void => {
      done = true;
      clearTimeout(timer);
      input.off("data", onData);
      input.off("end", onEnd);
      input.off("close", onEnd);
      input.off("error", onError);
    };
    const failWith = (code: ErrorCode, detail: string, cause?: unknown, hint?: string): void => {
      if (done) return;
      cleanup();
      reject(new ActvmError(code, detail, { subsystem, cause, hint }));
    };
    const onData = (chunk: Buffer | string): void => {
      if (done) return;
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      let frames;
      try {
        frames = decoder.push(bytes);
      } catch (err) {
        failWith("AGENT_PROTOCOL", (err as Error).message, err);
        return;
      }
      const first = frames[0];
      if (!first) return;
      let hello: AgentMessage;
      try {
        hello = validateAgentMessage(first.json, first.binary);
      } catch (err) {
        failWith("AGENT_PROTOCOL", `bad hello: ${(err as Error).message}`, err);
        return;
      }
      if (hello.type !== "hello") {
        failWith("AGENT_PROTOCOL", `expected hello, got "${hello.type}"`);
        return;
      }
      if (hello.protocol !== PROTOCOL_VERSION) {
        failWith(
          "AGENT_PROTOCOL",
          `agent ${hello.version} speaks protocol ${hello.protocol}, this host speaks ${PROTOCOL_VERSION}`,
          undefined,
          "rebuild the guest image or agent bundle from this version of actvm",
        );
        return;
      }
      cleanup();
      const client = new StreamAgentClient(channel, hello, subsystem, opts.pingTimeoutMs ?? 30_000);
      client.attach(decoder, frames.slice(1));
      resolve(client);
    };
    const onEnd = (): void =>
      failWith("AGENT_GONE", "the channel closed before the agent was ready");
    const onError = (err: Error): void =>
      failWith("AGENT_GONE", `the channel failed before the agent was ready: ${err.message}`, err);
    const timer = setTimeout(
      () => failWith("AGENT_TIMEOUT", `no hello within ${readyTimeoutMs} ms`),
      readyTimeoutMs,
    );
    input.on("data", onData);
    input.on("end", onEnd);
    input.on("close", onEnd);
    input.on("error", onError);
  });
}
