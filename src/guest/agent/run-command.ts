import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  writeSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import type { Readable } from "node:stream";
import type { ExecMessage, WireSignal } from "../protocol/messages.ts";
import type { FrameWriter } from "./frame-writer.ts";
import { killCommandTree, signalQuietly, TRACKING_VARIABLE } from "./process-tree.ts";

/**
 * How long to keep reading output after the command's main process exited while something it
 * left behind still holds the pipes open. Long enough for buffered output, short enough that a
 * backgrounded daemon does not hold the step.
 */
const OUTPUT_LINGER_MS = 1000;
/** Upper bound on that wait when a leftover process keeps writing. */
const OUTPUT_LINGER_MAX_MS = 30_000;

/** Exit code for a command that could not be found or started (as in POSIX shells). */
const EXIT_NOT_FOUND = 127;
const EXIT_NOT_EXECUTABLE = 126;

function resolveInPath(command: string, pathVar: string | undefined): string {
  if (command.includes("/") || !pathVar) return command;
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return command;
}

const SMALL_FILE_BYTES = 256 * 1024;

/**
 * Reads a collected file synchronously when it is small (the usual env file): its bytes (capped),
 * null when it does not exist or is not a regular file, undefined when it is large enough to be
 * streamed instead.
 */
function readSmallFile(path: string, maxBytes: number): Buffer | null | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    if (st.size > SMALL_FILE_BYTES) return undefined;
    const buf = Buffer.alloc(Math.min(st.size, maxBytes));
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

async function* readCapped(path: string, maxBytes: number): AsyncGenerator<Buffer> {
  const handle = await open(path, "r");
  try {
    let total = 0;
    while (total < maxBytes) {
      const buf = Buffer.alloc(Math.min(64 * 1024, maxBytes - total));
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * One command started by an `exec` frame: writes its files, runs it in its own process group
 * with exactly the requested environment (plus the tracking id), streams its output with
 * backpressure, enforces the timeout escalation and finally reports `exit`.
 *
 * A command that cannot be started (missing cwd or program, not executable) is reported like a
 * shell would: a message on its stderr stream and exit code 127 (126 when not executable), so a
 * step fails the way it does on GitHub rather than the transport failing.
 */
export class RunningCommand {
  readonly id: number;
  readonly #msg: ExecMessage;
  readonly #writer: FrameWriter;
  /** Marks every process of this command, so leftovers can be found after it ended. */
  readonly trackingId = randomBytes(12).toString("hex");
  readonly #started = Date.now();
  readonly #timers: NodeJS.Timeout[] = [];
  #child: ChildProcess | undefined;
  #timedOut = false;
  #exited = false;
  #abandoned = false;
  #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(msg: ExecMessage, writer: FrameWriter) {
    this.id = msg.id;
    this.#msg = msg;
    this.#writer = writer;
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** Settles after the `exit` (or `error`) frame for this command has been queued. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Runs the command to completion; never rejects. */
  async run(): Promise<void> {
    try {
      await this.#run();
    } catch (err) {
      this.#writer.send({
        type: "error",
        id: this.id,
        code: "EXEC_FAILED",
        message: (err as Error).message,
      });
    } finally {
      this.#clearTimers();
      this.#resolveDone();
    }
  }

  /** Delivers a host-requested signal; SIGKILL reaches every process of the command. */
  signal(signal: WireSignal): void {
    const pid = this.#child?.pid;
    if (signal === "SIGKILL") {
      killCommandTree(pid, this.trackingId);
    } else if (pid !== undefined && !this.#exited) {
      signalQuietly(-pid, signal);
    }
  }

  /** Kills everything the command started; used when the channel goes away. */
  killAll(): void {
    this.#abandoned = true;
    killCommandTree(this.#child?.pid, this.trackingId);
  }

  async #run(): Promise<void> {
    const msg = this.#msg;
    // Step files are small (scripts, empty env files): synchronous calls cost microseconds,
    // where each promise-based call takes a round trip through the thread pool, and every
    // step writes several of them.
    const made = new Set<string>();
    for (const file of msg.files) {
      if (!isAbsolute(file.path)) throw new Error(`file path "${file.path}" is not absolute`);
      const dir = dirname(file.path);
      if (!made.has(dir)) {
        mkdirSync(dir, { recursive: true });
        made.add(dir);
      }
      const mode = file.mode ?? 0o644;
      const fd = openSync(file.path, "w", mode);
      try {
        writeSync(fd, file.content);
        // The mode given to open applies only on creation and through the umask; make it exact.
        fchmodSync(fd, mode);
      } finally {
        closeSync(fd);
      }
    }

    if (this.#abandoned) throw new Error("the channel closed before the command started");
    const startError = this.#checkStart();
    if (startError) {
      this.#sendStderr(`actvm-agent: ${startError.message}\n`);
      await this.#finish(startError.code, null);
      return;
    }

    const env: Record<string, string> = { ...msg.env, [TRACKING_VARIABLE]: this.trackingId };
    // Without PATH in env, Node would search a built-in default; the contract says agent's PATH.
    const program = resolveInPath(
      msg.argv[0] as string,
      msg.env["PATH"] === undefined ? process.env["PATH"] : undefined,
    );
    const child = spawn(program, msg.argv.slice(1), {
      cwd: msg.cwd,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null } | Error>(
      (resolve) => {
        child.once("error", (err) => resolve(err));
        child.once("exit", (code, signal) => resolve({ code, signal }));
      },
    );
    const stdout = child.stdout as Readable;
    const stderr = child.stderr as Readable;
    const outputDone = Promise.all([this.#pump(stdout, "stdout"), this.#pump(stderr, "stderr")]);
    if (msg.timeoutMs > 0) this.#timers.push(setTimeout(() => this.#expire(), msg.timeoutMs));

    const outcome = await exited;
    this.#exited = true;
    if (outcome instanceof Error) {
      const code = (outcome as NodeJS.ErrnoException).code;
      this.#sendStderr(`actvm-agent: cannot run "${msg.argv[0]}": ${outcome.message}\n`);
      stdout.destroy();
      stderr.destroy();
      await this.#finish(code === "EACCES" ? EXIT_NOT_EXECUTABLE : EXIT_NOT_FOUND, null);
      return;
    }
    if (this.#timedOut) {
      // A timed-out command is over: nothing it started may outlive it.
      this.#clearTimers();
      killCommandTree(child.pid, this.trackingId);
    }
    await this.#lingerForOutput(outputDone, [stdout, stderr]);
    await this.#finish(outcome.code, outcome.signal);
  }

  #checkStart(): { code: number; message: string } | undefined {
    const msg = this.#msg;
    try {
      if (!statSync(msg.cwd).isDirectory()) {
        return {
          code: EXIT_NOT_FOUND,
          message: `working directory "${msg.cwd}" is not a directory`,
        };
      }
    } catch {
      return { code: EXIT_NOT_FOUND, message: `working directory "${msg.cwd}" does not exist` };
    }
    return undefined;
  }

  #expire(): void {
    const pid = this.#child?.pid;
    if (this.#exited || pid === undefined) return;
    this.#timedOut = true;
    const { interrupt, terminate } = this.#msg.graceMs;
    signalQuietly(-pid, "SIGINT");
    this.#timers.push(
      setTimeout(() => {
        if (!this.#exited) signalQuietly(-pid, "SIGTERM");
        this.#timers.push(setTimeout(() => killCommandTree(pid, this.trackingId), terminate));
      }, interrupt),
    );
  }

  #pump(stream: Readable, name: "stdout" | "stderr"): Promise<void> {
    return new Promise((resolve) => {
      stream.on("data", (chunk: Buffer) => {
        if (!this.#writer.send({ type: "output", id: this.id, stream: name }, chunk)) {
          stream.pause();
          this.#writer.onDrain(() => stream.resume());
        }
      });
      stream.once("close", () => resolve());
      stream.once("error", () => resolve());
    });
  }

  async #lingerForOutput(outputDone: Promise<unknown>, streams: Readable[]): Promise<void> {
    const exitedAt = Date.now();
    let lastActivity = exitedAt;
    const touch = (): void => {
      lastActivity = Date.now();
    };
    for (const s of streams) s.on("data", touch);
    let finished = false;
    void outputDone.then(() => {
      finished = true;
    });
    while (!finished) {
      // A paused stream is waiting on the channel, not idle: keep waiting for it.
      const paused = streams.some((s) => s.isPaused());
      const now = Date.now();
      if (
        !paused &&
        (now - lastActivity >= OUTPUT_LINGER_MS || now - exitedAt >= OUTPUT_LINGER_MAX_MS)
      ) {
        for (const s of streams) s.destroy();
        break;
      }
      await Promise.race([outputDone, new Promise((r) => setTimeout(r, 50))]);
    }
    for (const s of streams) s.off("data", touch);
  }

  async #finish(exitCode: number | null, signal: string | null): Promise<void> {
    const msg = this.#msg;
    const collected: (number | null)[] = [];
    for (const [index, path] of msg.collect.entries()) {
      collected.push(await this.#sendCollected(index, path, msg.collectMaxBytes));
    }
    this.#writer.send({
      type: "exit",
      id: this.id,
      exitCode,
      signal,
      timedOut: this.#timedOut,
      durationMs: Math.max(0, Date.now() - this.#started),
      collected,
    });
  }

  async #sendCollected(index: number, path: string, maxBytes: number): Promise<number | null> {
    const small = readSmallFile(path, maxBytes);
    if (small === null) return null;
    if (small !== undefined) {
      if (
        small.length > 0 &&
        !this.#writer.send({ type: "collect-data", id: this.id, index }, small)
      ) {
        await new Promise<void>((resolve) => this.#writer.onDrain(resolve));
      }
      return small.length;
    }
    let total = 0;
    try {
      for await (const chunk of readCapped(path, maxBytes)) {
        total += chunk.length;
        if (!this.#writer.send({ type: "collect-data", id: this.id, index }, chunk)) {
          await new Promise<void>((resolve) => this.#writer.onDrain(resolve));
        }
      }
    } catch (err) {
      // Missing (or a directory, or unreadable) is reported as null, as the contract says; a
      // read error half-way leaves what was sent, which the host would otherwise never see.
      if (total === 0) return null;
      process.stderr.write(`actvm-agent: reading ${path}: ${(err as Error).message}\n`);
    }
    return total;
  }

  #sendStderr(text: string): void {
    this.#writer.send({ type: "output", id: this.id, stream: "stderr" }, Buffer.from(text));
  }

  #clearTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.length = 0;
  }
}
