import { describe, expect, it } from "vitest";
import { ProtocolError } from "./protocol-error.ts";
import { validateAgentMessage, validateHostMessage } from "./validate-message.ts";

const none = Buffer.alloc(0);
const exec = {
  type: "exec",
  id: 3,
  argv: ["bash", "-c", "true"],
  cwd: "/",
  env: { A: "1" },
  files: [{ path: "/tmp/x", content: "hi", mode: 0o755 }],
  collect: ["/tmp/y"],
  collectMaxBytes: 10,
  timeoutMs: 0,
  graceMs: { interrupt: 1, terminate: 2 },
};

describe("validateHostMessage", () => {
  it("accepts a complete exec and drops fields it does not know", () => {
    const msg = validateHostMessage({ ...exec, extra: "x" }, none);
    expect(msg).toEqual(exec);
    expect("extra" in msg).toBe(false);
  });

  it.each([
    ["an unknown type", { type: "reboot", id: 1 }],
    ["a negative id", { type: "ping", id: -1 }],
    ["a fractional id", { type: "ping", id: 1.5 }],
    ["an empty argv", { ...exec, argv: [] }],
    ["a non-string env value", { ...exec, env: { A: 1 } }],
    ["a mode beyond 0o7777", { ...exec, files: [{ path: "/a", content: "", mode: 0o17777 }] }],
    ["an unknown signal", { type: "signal", id: 1, signal: "SIGSTOP" }],
    ["an array instead of an object", [1, 2]],
  ])("rejects %s", (_name, json) => {
    expect(() => validateHostMessage(json, none)).toThrow(ProtocolError);
  });

  it("rejects a binary payload on a frame type that carries none", () => {
    expect(() => validateHostMessage({ type: "ping", id: 1 }, Buffer.from("x"))).toThrow(/binary/);
    expect(validateHostMessage({ type: "put-data", id: 1 }, Buffer.from("x")).type).toBe(
      "put-data",
    );
  });

  it("keeps a __proto__ env key as plain data", () => {
    const json = JSON.parse(
      '{"type":"exec","id":1,"argv":["a"],"cwd":"/","env":{"__proto__":"x"},"files":[],"collect":[],"collectMaxBytes":1,"timeoutMs":0,"graceMs":{"interrupt":0,"terminate":0}}',
    );
    const msg = validateHostMessage(json, none);
    expect(msg.type === "exec" && Object.keys(msg.env)).toEqual(["__proto__"]);
  });
});

describe("validateAgentMessage", () => {
  it("accepts an exit with byte counts and nulls", () => {
    const msg = {
      type: "exit",
      id: 1,
      exitCode: null,
      signal: "SIGKILL",
      timedOut: true,
      durationMs: 5,
      collected: [3, null],
    };
    expect(validateAgentMessage(msg, none)).toEqual(msg);
  });

  it.each([
    [
      "a hello without protocol",
      { type: "hello", version: "1", node: "v18", platform: "linux", pid: 1 },
    ],
    ["an output on an unknown stream", { type: "output", id: 1, stream: "stdin" }],
    [
      "an exit with a text exit code",
      {
        type: "exit",
        id: 1,
        exitCode: "0",
        signal: null,
        timedOut: false,
        durationMs: 1,
        collected: [],
      },
    ],
    [
      "collected strings instead of byte counts",
      {
        type: "exit",
        id: 1,
        exitCode: 0,
        signal: null,
        timedOut: false,
        durationMs: 1,
        collected: ["x"],
      },
    ],
  ])("rejects %s", (_name, json) => {
    expect(() => validateAgentMessage(json, none)).toThrow(ProtocolError);
  });
});
