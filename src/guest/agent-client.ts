/**
 * The host-side view of the guest agent. Every sandbox backend hands out one of these; only the
 * byte transport underneath differs (stdio pipe, virtio-serial, vsock, HTTP).
 */

/** Signals the host may send to a running command (delivered to its whole process group). */
export type ExecSignal = "SIGINT" | "SIGTERM" | "SIGKILL";

/** A text file the agent writes before starting the command (e.g. the step script, env files). */
export interface FileToWrite {
  /** Absolute guest path; parent directories are created. */
  path: string;
  content: string;
  /** Octal mode, default 0o644. */
  mode?: number;
}

/** One command to run in the guest. */
export interface ExecRequest {
  /** argv[0] is looked up in PATH of `env` (or the agent's PATH when env has none). */
  argv: string[];
  /** Absolute guest path; must exist. */
  cwd: string;
  /** The complete environment of the command (nothing is inherited from the agent). */
  env: Record<string, string>;
  /** Written before the command starts, in order. */
  files?: FileToWrite[];
  /** Read after the command ends (text, each capped at `collectMaxBytes`); missing files → null. */
  collect?: string[];
  /** Default 16 MiB per file. */
  collectMaxBytes?: number;
  /**
   * Wall-clock limit. On expiry the agent sends SIGINT to the process group, then SIGTERM after
   * `graceMs.interrupt`, then SIGKILL to every process of the command (also ones that left the
   * group) after `graceMs.terminate`. GitHub's runner uses 7500 ms and 2500 ms.
   */
  timeoutMs?: number;
  graceMs?: { interrupt: number; terminate: number };
}

/** How a command ended. */
export interface ExecResult {
  /** null when killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  /** True when the agent ended it because `timeoutMs` expired. */
  timedOut: boolean;
  durationMs: number;
  /** Contents of `collect` paths, in the same order; null where the file did not exist. */
  collected: (string | null)[];
}

/** Callbacks for streamed output. Chunks are raw bytes as the command wrote them. */
export interface ExecHandlers {
  onStdout?(chunk: Buffer): void;
  onStderr?(chunk: Buffer): void;
}

/** Handle to a started command. */
export interface ExecHandle {
  /** Resolves when the command has ended and all of its output has been delivered. */
  readonly result: Promise<ExecResult>;
  /** Sends a signal to the command's process group (SIGKILL: to every process it started). */
  kill(signal: ExecSignal): Promise<void>;
}

/** Answer to `ping`. */
export interface AgentInfo {
  version: string;
  node: string;
  platform: string;
  pid: number;
  /** Guest clock, ms since the epoch. */
  time: number;
}

/** The agent API. All methods reject with an ActvmError (AGENT_*) when the transport breaks. */
export interface AgentClient {
  ping(): Promise<AgentInfo>;
  exec(req: ExecRequest, handlers?: ExecHandlers): ExecHandle;
  /** Extracts a tar stream (uncompressed) into `dir` (created if missing). */
  putTar(dir: string, tar: AsyncIterable<Buffer> | Buffer): Promise<void>;
  /** Produces a tar stream of `path` (file or directory), entries relative to its parent. */
  getTar(path: string): AsyncIterable<Buffer>;
  /** GitHub's hashFiles(): sha256 over the sorted matching files under `root`; "" when none. */
  hashFiles(root: string, patterns: string[]): Promise<string>;
  /** Ends the transport; running commands are killed by the agent when its channel closes. */
  close(): Promise<void>;
}
