import { spawn, spawnSync } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import type { Socket } from "node:net";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isActvmError } from "../shared/errors.ts";
import { agentBundlePath } from "./agent-bundle-path.ts";
import { connectAgent } from "./connect-agent.ts";
import type { ConnectedAgent } from "./connect-agent.ts";
import { hashFiles as hashFilesLocally } from "./agent/hash-files.ts";
import { encodeFrame } from "./protocol/frame.ts";
import { PROTOCOL_VERSION } from "./protocol/version.ts";

const PATH = process.env["PATH"] ?? "/usr/bin:/bin";
let work: string;
let agentFile: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "actvm-agent-test-"));
  agentFile = join(work, "agent.cjs");
  // Built the way scripts/build.mjs builds it, so the test runs what ships.
  await build({
    entryPoints: [fileURLToPath(new URL("./agent/main.ts", import.meta.url))],
    outfile: agentFile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node18",
    logLevel: "warning",
  });
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function startAgent(): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [agentFile], {
    stdio: ["pipe", "pipe", "pipe"],
    // A variable only the agent has: commands must not see it.
    env: { PATH, AGENT_ONLY_SECRET: "do-not-leak" },
  });
  children.push(child);
  return child;
}

async function connect(): Promise<{
  agent: ConnectedAgent;
  child: ChildProcessWithoutNullStreams;
}> {
  const child = startAgent();
  const agent = await connectAgent(
    { input: child.stdout, output: child.stdin },
    { subsystem: "test/agent", readyTimeoutMs: 10_000 },
  );
  return { agent, child };
}

function tempDir(): string {
  return mkdtempSync(join(work, "d-"));
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

function run(
  agent: ConnectedAgent,
  script: string,
  extra: Partial<Parameters<ConnectedAgent["exec"]>[0]> = {},
) {
  let stdout = "";
  let stderr = "";
  const handle = agent.exec(
    { argv: ["bash", "-c", script], cwd: work, env: { PATH }, ...extra },
    {
      onStdout: (c) => (stdout += c.toString()),
      onStderr: (c) => (stderr += c.toString()),
    },
  );
  return {
    handle,
    done: handle.result.then((result) => ({ result, stdout, stderr })),
  };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isActvmError(err), String(err)).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

describe("connectAgent with the real agent", () => {
  it("handshakes and answers ping with the agent's identity", async () => {
    const { agent, child } = await connect();
    expect(agent.hello.protocol).toBe(PROTOCOL_VERSION);
    const info = await agent.ping();
    expect(info.pid).toBe(child.pid);
    expect(info.node).toBe(process.version);
    expect(Math.abs(info.time - Date.now())).toBeLessThan(5000);
    await agent.close();
  });

  it("streams stdout and stderr separately and in order", async () => {
    const { agent } = await connect();
    const { done } = run(agent, "for i in $(seq 1 200); do echo out$i; echo err$i >&2; done");
    const { result, stdout, stderr } = await done;
    const lines = (p: string) => Array.from({ length: 200 }, (_, i) => `${p}${i + 1}\n`).join("");
    expect(result.exitCode).toBe(0);
    expect(stdout).toBe(lines("out"));
    expect(stderr).toBe(lines("err"));
    await agent.close();
  });

  it("delivers all of a large output before the result resolves", async () => {
    const { agent } = await connect();
    let bytes = 0;
    const handle = agent.exec(
      { argv: ["head", "-c", "20000000", "/dev/zero"], cwd: work, env: { PATH } },
      { onStdout: (c) => (bytes += c.length) },
    );
    const result = await handle.result;
    expect(bytes).toBe(20_000_000);
    expect(result.exitCode).toBe(0);
    await agent.close();
  });

  it("does not let a background process that keeps the output pipe open hold the result", async () => {
    const { agent } = await connect();
    const pidFile = join(tempDir(), "bg");
    const started = Date.now();
    const { result, stdout } = await run(agent, `sleep 30 & echo $! > ${pidFile}; echo done`).done;
    try {
      expect(result.exitCode).toBe(0);
      expect(stdout).toBe("done\n");
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    }
    await agent.close();
  });

  it("reports exit codes and terminating signals", async () => {
    const { agent } = await connect();
    expect((await run(agent, "exit 3").done).result).toMatchObject({
      exitCode: 3,
      signal: null,
      timedOut: false,
    });
    expect((await run(agent, "kill -TERM $$").done).result).toMatchObject({
      exitCode: null,
      signal: "SIGTERM",
    });
    await agent.close();
  });

  it("gives the command exactly the requested environment plus the tracking id", async () => {
    const { agent } = await connect();
    let out = "";
    const result = await agent.exec(
      { argv: ["env"], cwd: work, env: { FOO: "bar baz", PATH } },
      { onStdout: (c) => (out += c.toString()) },
    ).result;
    expect(result.exitCode).toBe(0);
    const names = out
      .trim()
      .split("\n")
      .map((l) => l.split("=")[0])
      .sort();
    expect(names).toEqual(["ACTVM_TRACKING_ID", "FOO", "PATH"]);
    expect(out).toContain("FOO=bar baz\n");
    expect(out).not.toContain("do-not-leak");
    await agent.close();
  });

  it("finds the program through the agent's PATH when the env has none", async () => {
    const { agent } = await connect();
    let out = "";
    const result = await agent.exec(
      { argv: ["env"], cwd: work, env: { ONLY: "1" } },
      { onStdout: (c) => (out += c.toString()) },
    ).result;
    expect(result.exitCode).toBe(0);
    expect(out).toMatch(/^ONLY=1\nACTVM_TRACKING_ID=[0-9a-f]+\n$/);
    await agent.close();
  });

  it("writes files with their modes before the command and collects files after it", async () => {
    const { agent } = await connect();
    const dir = tempDir();
    const script = join(dir, "nested/deeper/step.sh");
    const { done } = run(agent, script, {
      argv: [script],
      files: [
        {
          path: script,
          content: `#!/bin/bash\necho "héllo" > ${dir}/out.txt\nprintf 0123456789 > ${dir}/long\n`,
          mode: 0o750,
        },
      ],
      collect: [join(dir, "out.txt"), join(dir, "missing"), join(dir, "long")],
      collectMaxBytes: 7,
    });
    const { result } = await done;
    expect(result.exitCode).toBe(0);
    expect(statSync(script).mode & 0o7777).toBe(0o750);
    expect(result.collected).toEqual(["héllo\n", null, "0123456"]);
    await agent.close();
  });

  it("collects a file bigger than one frame intact", async () => {
    const { agent } = await connect();
    const dir = tempDir();
    const content = randomBytes(6 * 1024 * 1024).toString("base64");
    writeFileSync(join(dir, "big"), content);
    const result = await agent.exec({
      argv: ["true"],
      cwd: dir,
      env: { PATH },
      collect: [join(dir, "big")],
    }).result;
    expect(result.collected[0]).toBe(content);
    await agent.close();
  });

  it("reports a missing program or working directory like a shell: 127 and a message", async () => {
    const { agent } = await connect();
    const missing = await run(agent, "", { argv: ["no-such-program-xyz"] }).done;
    expect(missing.result.exitCode).toBe(127);
    expect(missing.stderr).toContain("no-such-program-xyz");
    const badCwd = await run(agent, "true", { cwd: join(work, "nope") }).done;
    expect(badCwd.result.exitCode).toBe(127);
    expect(badCwd.stderr).toContain("does not exist");
    await agent.close();
  });

  it("escalates a timeout from SIGINT to SIGTERM to killing every process, escapees included", async () => {
    const { agent } = await connect();
    const dir = tempDir();
    const script = [
      "trap 'echo got-int' INT",
      "trap 'echo got-term' TERM",
      // Double fork into a new session: no parent link and no process group lead back.
      `(setsid nohup sleep 1000 >/dev/null 2>&1 & echo $! > ${dir}/escapee)`,
      `echo $$ > ${dir}/main`,
      "while true; do sleep 0.05; done",
    ].join("\n");
    const { done } = run(agent, script, {
      timeoutMs: 400,
      graceMs: { interrupt: 400, terminate: 400 },
    });
    const { result, stdout } = await done;
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe("SIGKILL");
    expect(result.durationMs).toBeGreaterThanOrEqual(1100);
    expect(result.durationMs).toBeLessThan(6000);
    expect(stdout).toContain("got-int");
    expect(stdout).toContain("got-term");
    const escapee = Number(readFileSync(join(dir, "escapee"), "utf8"));
    const main = Number(readFileSync(join(dir, "main"), "utf8"));
    expect(await waitFor(() => !alive(escapee) && !alive(main), 3000)).toBe(true);
    await agent.close();
  });

  it("ends a timed-out command that obeys SIGINT without waiting for the grace periods", async () => {
    const { agent } = await connect();
    const { result } = await run(agent, "sleep 30", {
      timeoutMs: 200,
      graceMs: { interrupt: 5000, terminate: 5000 },
    }).done;
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe("SIGINT");
    expect(result.durationMs).toBeLessThan(3000);
    await agent.close();
  });

  it("delivers kill() from the host to the command's process group", async () => {
    const { agent } = await connect();
    const dir = tempDir();
    const { handle, done } = run(agent, `sleep 1000 & echo $! > ${dir}/child; wait`);
    await waitFor(
      () =>
        existsSync(join(dir, "child")) && readFileSync(join(dir, "child"), "utf8").endsWith("\n"),
      5000,
    );
    const child = Number(readFileSync(join(dir, "child"), "utf8"));
    await handle.kill("SIGTERM");
    const { result } = await done;
    expect(result.signal).toBe("SIGTERM");
    expect(result.timedOut).toBe(false);
    expect(await waitFor(() => !alive(child), 3000)).toBe(true);
    await agent.close();
  });

  it("kills escaped processes on kill('SIGKILL')", async () => {
    const { agent } = await connect();
    const dir = tempDir();
    const { handle, done } = run(
      agent,
      `(setsid nohup sleep 1000 >/dev/null 2>&1 & echo $! > ${dir}/e); trap '' INT TERM; sleep 1000`,
    );
    await waitFor(
      () => existsSync(join(dir, "e")) && readFileSync(join(dir, "e"), "utf8").endsWith("\n"),
      5000,
    );
    const escapee = Number(readFileSync(join(dir, "e"), "utf8"));
    expect(alive(escapee)).toBe(true);
    await handle.kill("SIGKILL");
    expect((await done).result.signal).toBe("SIGKILL");
    expect(await waitFor(() => !alive(escapee), 3000)).toBe(true);
    await agent.close();
  });

  it("runs 20 commands concurrently and keeps their outputs apart", async () => {
    const { agent } = await connect();
    const runs = Array.from(
      { length: 20 },
      (_, i) => run(agent, `for j in 1 2 3; do echo ${i}-$j; sleep 0.05; done; exit ${i}`).done,
    );
    const results = await Promise.all(runs);
    results.forEach(({ result, stdout }, i) => {
      expect(result.exitCode).toBe(i);
      expect(stdout).toBe(`${i}-1\n${i}-2\n${i}-3\n`);
    });
    await agent.close();
  });

  it("round-trips a directory with modes and a symlink through putTar and getTar", async () => {
    const { agent } = await connect();
    const src = tempDir();
    mkdirSync(join(src, "tree/sub"), { recursive: true });
    writeFileSync(join(src, "tree/run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
    writeFileSync(join(src, "tree/sub/data.bin"), randomBytes(3 * 1024 * 1024));
    writeFileSync(join(src, "tree/private"), "p", { mode: 0o600 });
    symlinkSync("sub/data.bin", join(src, "tree/link"));
    const tar = spawnSync("tar", ["-c", "-f", "-", "-C", src, "tree"], {
      maxBuffer: 64 * 1024 * 1024,
    }).stdout;

    const guest = join(tempDir(), "created/by/put");
    // Fed as many small chunks, as a stream would arrive.
    async function* chunks() {
      for (let off = 0; off < tar.length; off += 100_000) yield tar.subarray(off, off + 100_000);
    }
    await agent.putTar(guest, chunks());
    expect(
      readFileSync(join(guest, "tree/sub/data.bin")).equals(
        readFileSync(join(src, "tree/sub/data.bin")),
      ),
    ).toBe(true);
    expect(statSync(join(guest, "tree/run.sh")).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(guest, "tree/link"))).toBe("sub/data.bin");

    const parts: Buffer[] = [];
    for await (const chunk of agent.getTar(join(guest, "tree"))) parts.push(chunk);
    const back = tempDir();
    const untar = spawnSync("tar", ["-x", "-f", "-", "-C", back], { input: Buffer.concat(parts) });
    expect(untar.status).toBe(0);
    expect(
      readFileSync(join(back, "tree/sub/data.bin")).equals(
        readFileSync(join(src, "tree/sub/data.bin")),
      ),
    ).toBe(true);
    expect(statSync(join(back, "tree/private")).mode & 0o777).toBe(0o600);
    expect(lstatSync(join(back, "tree/link")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(back, "tree/link"))).toBe("sub/data.bin");
    await agent.close();
  });

  it("rejects putTar of garbage and getTar of a missing path, and stays usable", async () => {
    const { agent } = await connect();
    await expectCode(agent.putTar(tempDir(), Buffer.alloc(10_240, 7)), "EXEC_FAILED");
    const missing = (async () => {
      for await (const _ of agent.getTar(join(work, "no-such-dir"))) void _;
    })();
    await expectCode(missing, "EXEC_FAILED");
    expect((await agent.ping()).pid).toBeGreaterThan(0);
    await agent.close();
  });

  it("stops the agent's tar when a getTar reader breaks off early", async () => {
    const { agent } = await connect();
    const dir = tempDir();
    writeFileSync(join(dir, "big"), randomBytes(8 * 1024 * 1024));
    for await (const chunk of agent.getTar(dir)) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    // The connection must still serve requests after the abandoned stream.
    expect(await agent.hashFiles(dir, ["big"])).toBe(await hashFilesLocally(dir, ["big"]));
    await agent.close();
  });

  it("rejects a request over the frame limit without breaking the connection", async () => {
    const { agent } = await connect();
    const huge = "x".repeat(9 * 1024 * 1024);
    const result = agent.exec({
      argv: ["true"],
      cwd: work,
      env: { PATH },
      files: [{ path: join(work, "h"), content: huge }],
    }).result;
    await expectCode(result, "EXEC_FAILED");
    await expectCode(agent.hashFiles("relative/root", ["*"]), "EXEC_FAILED");
    expect((await agent.ping()).pid).toBeGreaterThan(0);
    await agent.close();
  });

  it("computes hashFiles in the guest", async () => {
    const { agent } = await connect();
    const dir = tempDir();
    writeFileSync(join(dir, "a.lock"), "a");
    mkdirSync(join(dir, "x"));
    writeFileSync(join(dir, "x/b.lock"), "b");
    const remote = await agent.hashFiles(dir, ["**/*.lock", "!x/**"]);
    expect(remote).toMatch(/^[0-9a-f]{64}$/);
    expect(remote).toBe(await hashFilesLocally(dir, ["a.lock"]));
    expect(await agent.hashFiles(dir, ["*.none"])).toBe("");
    await agent.close();
  });

  it("rejects pending calls with AGENT_GONE when the agent dies mid-exec", async () => {
    const { agent, child } = await connect();
    const pidFile = join(tempDir(), "pid");
    const { done } = run(agent, `echo $$ > ${pidFile}; exec sleep 30`);
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").endsWith("\n"), 5000);
    const rejected = expectCode(done, "AGENT_GONE");
    child.kill("SIGKILL");
    try {
      await rejected;
      await expectCode(agent.ping(), "AGENT_GONE");
      const closedWith = await agent.closed;
      expect(closedWith?.code).toBe("AGENT_GONE");
      await expectCode(agent.putTar(work, Buffer.alloc(0)), "AGENT_GONE");
    } finally {
      // A SIGKILLed agent cannot clean up; in a sandbox its teardown does, here the test must.
      process.kill(-Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    }
  });

  it("kills what finished commands left in the background when the channel closes", async () => {
    const { agent, child } = await connect();
    const pidFile = join(tempDir(), "bg");
    const { result } = await run(
      agent,
      `(setsid sleep 1000 >/dev/null 2>&1 & echo $! > ${pidFile})`,
    ).done;
    expect(result.exitCode).toBe(0);
    const pid = Number(readFileSync(pidFile, "utf8"));
    expect(alive(pid)).toBe(true);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    await agent.close();
    await exited;
    expect(await waitFor(() => !alive(pid), 3000)).toBe(true);
  });

  it("kills running commands, escapees included, when the channel closes", async () => {
    const { agent, child } = await connect();
    const dir = tempDir();
    const { done } = run(
      agent,
      `(setsid nohup sleep 1000 >/dev/null 2>&1 & echo $! > ${dir}/e); echo $$ > ${dir}/m; sleep 1000`,
    );
    await waitFor(() => existsSync(join(dir, "m")) && existsSync(join(dir, "e")), 5000);
    await new Promise((r) => setTimeout(r, 100));
    const pids = ["e", "m"].map((f) => Number(readFileSync(join(dir, f), "utf8")));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const rejected = expectCode(done, "AGENT_GONE");
    await agent.close();
    await rejected;
    expect(
      await Promise.race([
        exited.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 5000)),
      ]),
    ).toBe(true);
    expect(await waitFor(() => pids.every((p) => !alive(p)), 3000)).toBe(true);
  });

  it("survives garbage bytes: the agent closes cleanly and the host sees a clean error", async () => {
    for (let i = 0; i < 5; i++) {
      const { agent, child } = await connect();
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      await agent.ping();
      const running = agent.exec({ argv: ["sleep", "30"], cwd: work, env: { PATH } }).result;
      const outcome = running.then(
        () => "resolved",
        (e: unknown) => (e as { code?: string }).code,
      );
      const garbage = randomBytes(64 + i * 97);
      // A plausible header with a bad JSON body on even rounds; pure noise on odd ones.
      if (i % 2 === 0) {
        garbage.writeUInt32BE(garbage.length - 8, 0);
        garbage.writeUInt32BE(0, 4);
      }
      child.stdin.write(garbage);
      const closed = await agent.closed;
      expect(await outcome).toBe(closed?.code);
      expect(["AGENT_PROTOCOL", "AGENT_GONE"]).toContain(closed?.code);
      expect(await exited).toBe(0);
      await expectCode(agent.ping(), closed?.code ?? "");
    }
  });
});

describe("the agent's other channels", () => {
  it("serves a host over a unix socket with --socket and exits when it closes", async () => {
    const path = join(tempDir(), "agent.sock");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
      const child = spawn(process.execPath, [agentFile, "--socket", path], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH },
      });
      children.push(child as unknown as ChildProcessWithoutNullStreams);
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      const socket = await accepted;
      const agent = await connectAgent({ input: socket, output: socket }, { subsystem: "t" });
      let out = "";
      const result = await agent.exec(
        { argv: ["echo", "over-socket"], cwd: work, env: { PATH } },
        { onStdout: (c) => (out += c.toString()) },
      ).result;
      expect(result.exitCode).toBe(0);
      expect(out).toBe("over-socket\n");
      // Nothing but frames may go to the channel; stdout of the agent process stays silent.
      let agentStdout = "";
      child.stdout.on("data", (c: Buffer) => (agentStdout += c.toString()));
      await agent.close();
      expect(await exited).toBe(0);
      expect(agentStdout).toBe("");
    } finally {
      server.close();
    }
  });

  it("rejects unknown arguments with a usage message and exit code 2", () => {
    const res = spawnSync(process.execPath, [agentFile, "--bogus"], { encoding: "utf8" });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("usage");
    expect(res.stdout).toBe("");
  });
});

describe("connectAgent against a hostile or absent agent", () => {
  it("times out with AGENT_TIMEOUT when no hello arrives", async () => {
    const input = new PassThrough();
    await expectCode(
      connectAgent({ input, output: new PassThrough() }, { subsystem: "t", readyTimeoutMs: 100 }),
      "AGENT_TIMEOUT",
    );
  });

  it("refuses an agent that speaks another protocol version", async () => {
    const input = new PassThrough();
    const connecting = connectAgent({ input, output: new PassThrough() }, { subsystem: "t" });
    input.write(
      encodeFrame({
        type: "hello",
        protocol: PROTOCOL_VERSION + 1,
        version: "9",
        node: "v18",
        platform: "linux",
        pid: 1,
      }),
    );
    await expectCode(connecting, "AGENT_PROTOCOL");
  });

  it("fails pending calls with AGENT_PROTOCOL when the agent sends garbage after hello", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const connecting = connectAgent({ input, output }, { subsystem: "t" });
    input.write(
      encodeFrame({
        type: "hello",
        protocol: PROTOCOL_VERSION,
        version: "x",
        node: "v18",
        platform: "linux",
        pid: 1,
      }),
    );
    const agent = await connecting;
    const ping = agent.ping();
    const exec = agent.exec({ argv: ["x"], cwd: "/", env: {} }).result;
    input.write(encodeFrame({ type: "exit", id: 2, exitCode: "zero" }));
    await expectCode(ping, "AGENT_PROTOCOL");
    await expectCode(exec, "AGENT_PROTOCOL");
    expect((await agent.closed)?.code).toBe("AGENT_PROTOCOL");
  });

  it("rejects collected data that exceeds what the host asked for", async () => {
    const input = new PassThrough();
    const connecting = connectAgent({ input, output: new PassThrough() }, { subsystem: "t" });
    input.write(
      encodeFrame({
        type: "hello",
        protocol: PROTOCOL_VERSION,
        version: "x",
        node: "v18",
        platform: "linux",
        pid: 1,
      }),
    );
    const agent = await connecting;
    const exec = agent.exec({
      argv: ["x"],
      cwd: "/",
      env: {},
      collect: ["/f"],
      collectMaxBytes: 4,
    }).result;
    input.write(encodeFrame({ type: "collect-data", id: 1, index: 0 }, Buffer.from("12345")));
    await expectCode(exec, "AGENT_PROTOCOL");
  });
});

describe("agentBundlePath", () => {
  it("points at an existing agent.cjs when the bundle has been built", () => {
    const dist = fileURLToPath(new URL("../../dist/agent.cjs", import.meta.url));
    if (!existsSync(dist)) {
      expect(() => agentBundlePath()).toThrow(/npm run build|missing/);
      return;
    }
    expect(agentBundlePath()).toBe(dist);
  });
});
