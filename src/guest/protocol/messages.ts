/** Signals the host may ask the agent to deliver. */
export type WireSignal = "SIGINT" | "SIGTERM" | "SIGKILL";

/** A file the agent writes before starting a command. */
export interface WireFile {
  path: string;
  content: string;
  mode?: number;
}

/** First frame the agent sends once it is ready to take requests. */
export interface HelloMessage {
  type: "hello";
  protocol: number;
  version: string;
  node: string;
  platform: string;
  pid: number;
}

/** Liveness probe; answered with `pong`. */
export interface PingMessage {
  type: "ping";
  id: number;
}

/** Answer to `ping`, with the agent's identity and clock. */
export interface PongMessage {
  type: "pong";
  id: number;
  version: string;
  node: string;
  platform: string;
  pid: number;
  time: number;
}

/** Starts a command; answered by `output` frames and one `exit` (or `error`). */
export interface ExecMessage {
  type: "exec";
  id: number;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  files: WireFile[];
  collect: string[];
  collectMaxBytes: number;
  /** 0 means no limit. */
  timeoutMs: number;
  graceMs: { interrupt: number; terminate: number };
}

/** A chunk of a command's stdout or stderr; the bytes are the frame's binary part. */
export interface OutputMessage {
  type: "output";
  id: number;
  stream: "stdout" | "stderr";
}

/**
 * A chunk of the `index`-th collected file, bytes in the binary part. Sent after the command's
 * output and before its `exit`, so a 16 MiB collected file never needs one huge frame.
 */
export interface CollectDataMessage {
  type: "collect-data";
  id: number;
  index: number;
}

/** A command ended; sent after all of its output and collect-data frames. */
export interface ExitMessage {
  type: "exit";
  id: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  /** Byte length of each `collect` path as sent in collect-data frames; null when missing. */
  collected: (number | null)[];
}

/**
 * Delivers a signal to the running command `id` (SIGKILL: to every process it started). Not
 * answered: its effect shows in that command's `exit`; an unknown id is ignored.
 */
export interface SignalMessage {
  type: "signal";
  id: number;
  signal: WireSignal;
}

/** Starts extracting an uncompressed tar stream into `dir`. */
export interface PutBeginMessage {
  type: "put-begin";
  id: number;
  dir: string;
}

/** A chunk of the tar stream for an open `put-begin`; bytes in the binary part. */
export interface PutDataMessage {
  type: "put-data";
  id: number;
}

/** Ends the tar stream; answered with `ok` once extraction finished, or `error`. */
export interface PutEndMessage {
  type: "put-end";
  id: number;
}

/** Asks for a tar stream of `path`; answered by `get-data` frames then `get-end` (or `error`). */
export interface GetMessage {
  type: "get";
  id: number;
  path: string;
}

/** A chunk of the tar stream asked for by `get`. */
export interface GetDataMessage {
  type: "get-data";
  id: number;
}

/** The tar stream asked for by `get` is complete. */
export interface GetEndMessage {
  type: "get-end";
  id: number;
}

/** Abandons a running `get` or `put` (the reader went away). */
export interface CancelMessage {
  type: "cancel";
  id: number;
}

/** GitHub's hashFiles() over `root`; answered with `result`. */
export interface HashFilesMessage {
  type: "hash-files";
  id: number;
  root: string;
  patterns: string[];
}

/** A string answer (used by `hash-files`). */
export interface ResultMessage {
  type: "result";
  id: number;
  value: string;
}

/** A request without a payload finished (`put-end`). */
export interface OkMessage {
  type: "ok";
  id: number;
}

/** A request failed; without `id` the whole connection failed and is about to close. */
export interface ErrorMessage {
  type: "error";
  id?: number;
  code: string;
  message: string;
}

/** Frames the host sends. */
export type HostMessage =
  | PingMessage
  | ExecMessage
  | SignalMessage
  | PutBeginMessage
  | PutDataMessage
  | PutEndMessage
  | GetMessage
  | CancelMessage
  | HashFilesMessage;

/** Frames the agent sends. */
export type AgentMessage =
  | HelloMessage
  | PongMessage
  | OutputMessage
  | CollectDataMessage
  | ExitMessage
  | GetDataMessage
  | GetEndMessage
  | ResultMessage
  | OkMessage
  | ErrorMessage;
