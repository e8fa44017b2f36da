import type { AgentMessage, ExecMessage, HostMessage, WireFile, WireSignal } from "./messages.ts";
import { ProtocolError } from "./protocol-error.ts";

type Obj = Record<string, unknown>;

const SIGNALS: readonly WireSignal[] = ["SIGINT", "SIGTERM", "SIGKILL"];
const DATA_TYPES = new Set(["output", "put-data", "get-data", "collect-data"]);

function fail(what: string): never {
  throw new ProtocolError(what);
}

function object(v: unknown, what: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(`${what} must be an object`);
  return v as Obj;
}

function str(o: Obj, key: string): string {
  const v = o[key];
  if (typeof v !== "string") fail(`"${key}" must be a string`);
  return v;
}

function nonNegInt(o: Obj, key: string): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    fail(`"${key}" must be a non-negative integer`);
  }
  return v;
}

function bool(o: Obj, key: string): boolean {
  const v = o[key];
  if (typeof v !== "boolean") fail(`"${key}" must be a boolean`);
  return v;
}

function stringOrNull(o: Obj, key: string): string | null {
  const v = o[key];
  if (v !== null && typeof v !== "string") fail(`"${key}" must be a string or null`);
  return v;
}

function stringArray(o: Obj, key: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    fail(`"${key}" must be an array of strings`);
  }
  return v as string[];
}

function stringRecord(o: Obj, key: string): Record<string, string> {
  const v = object(o[key], `"${key}"`);
  // A null-prototype copy, so keys like "__proto__" stay plain data.
  const out = Object.create(null) as Record<string, string>;
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") fail(`"${key}.${k}" must be a string`);
    out[k] = val;
  }
  return out;
}

function files(o: Obj): WireFile[] {
  const v = o["files"];
  if (!Array.isArray(v)) fail(`"files" must be an array`);
  return v.map((f, i) => {
    const fo = object(f, `"files[${i}]"`);
    const file: WireFile = { path: str(fo, "path"), content: str(fo, "content") };
    if (fo["mode"] !== undefined) {
      const mode = nonNegInt(fo, "mode");
      if (mode > 0o7777) fail(`"files[${i}].mode" must be at most 0o7777`);
      file.mode = mode;
    }
    return file;
  });
}

function exec(o: Obj, id: number): ExecMessage {
  const argv = stringArray(o, "argv");
  if (argv.length === 0) fail(`"argv" must not be empty`);
  const grace = object(o["graceMs"], `"graceMs"`);
  return {
    type: "exec",
    id,
    argv,
    cwd: str(o, "cwd"),
    env: stringRecord(o, "env"),
    files: files(o),
    collect: stringArray(o, "collect"),
    collectMaxBytes: nonNegInt(o, "collectMaxBytes"),
    timeoutMs: nonNegInt(o, "timeoutMs"),
    graceMs: { interrupt: nonNegInt(grace, "interrupt"), terminate: nonNegInt(grace, "terminate") },
  };
}

function checkBinary(type: string, binary: Buffer): void {
  if (binary.length > 0 && !DATA_TYPES.has(type)) fail(`"${type}" frames carry no binary part`);
}

/**
 * Checks a frame received by the agent and returns it as a typed message; throws ProtocolError
 * naming the first problem. Only known fields are copied, so extra fields cannot leak through.
 */
export function validateHostMessage(json: unknown, binary: Buffer): HostMessage {
  const o = object(json, "message");
  const type = str(o, "type");
  checkBinary(type, binary);
  const id = nonNegInt(o, "id");
  switch (type) {
    case "ping":
    case "put-data":
    case "put-end":
    case "cancel":
      return { type, id };
    case "exec":
      return exec(o, id);
    case "signal": {
      const signal = str(o, "signal");
      if (!SIGNALS.includes(signal as WireSignal)) fail(`unknown signal "${signal}"`);
      return { type, id, signal: signal as WireSignal };
    }
    case "put-begin":
      return { type, id, dir: str(o, "dir") };
    case "get":
      return { type, id, path: str(o, "path") };
    case "hash-files":
      return { type, id, root: str(o, "root"), patterns: stringArray(o, "patterns") };
    default:
      return fail(`unknown message type "${type}"`);
  }
}

/**
 * Checks a frame received by the host; the guest is untrusted, so nothing it sends is used
 * before passing here. Throws ProtocolError naming the first problem.
 */
export function validateAgentMessage(json: unknown, binary: Buffer): AgentMessage {
  const o = object(json, "message");
  const type = str(o, "type");
  checkBinary(type, binary);
  switch (type) {
    case "hello":
      return {
        type,
        protocol: nonNegInt(o, "protocol"),
        version: str(o, "version"),
        node: str(o, "node"),
        platform: str(o, "platform"),
        pid: nonNegInt(o, "pid"),
      };
    case "pong":
      return {
        type,
        id: nonNegInt(o, "id"),
        version: str(o, "version"),
        node: str(o, "node"),
        platform: str(o, "platform"),
        pid: nonNegInt(o, "pid"),
        time: nonNegInt(o, "time"),
      };
    case "output": {
      const stream = str(o, "stream");
      if (stream !== "stdout" && stream !== "stderr") fail(`unknown stream "${stream}"`);
      return { type, id: nonNegInt(o, "id"), stream };
    }
    case "exit": {
      const exitCode = o["exitCode"];
      if (exitCode !== null && (typeof exitCode !== "number" || !Number.isInteger(exitCode))) {
        fail(`"exitCode" must be an integer or null`);
      }
      const collected = o["collected"];
      if (
        !Array.isArray(collected) ||
        !collected.every((c) => c === null || (Number.isSafeInteger(c) && (c as number) >= 0))
      ) {
        fail(`"collected" must be an array of byte counts or nulls`);
      }
      return {
        type,
        id: nonNegInt(o, "id"),
        exitCode,
        signal: stringOrNull(o, "signal"),
        timedOut: bool(o, "timedOut"),
        durationMs: nonNegInt(o, "durationMs"),
        collected: collected as (number | null)[],
      };
    }
    case "collect-data":
      return { type, id: nonNegInt(o, "id"), index: nonNegInt(o, "index") };
    case "get-data":
    case "get-end":
    case "ok":
      return { type, id: nonNegInt(o, "id") };
    case "result":
      return { type, id: nonNegInt(o, "id"), value: str(o, "value") };
    case "error": {
      const msg: AgentMessage = { type, code: str(o, "code"), message: str(o, "message") };
      if (o["id"] !== undefined) msg.id = nonNegInt(o, "id");
      return msg;
    }
    default:
      return fail(`unknown message type "${type}"`);
  }
}
