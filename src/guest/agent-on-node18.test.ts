import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectAgent, type ConnectedAgent } from "./connect-agent.ts";

// The guest image's Node is Debian 12's Node 18, so the agent bundle must run there.
// scripts/fetch-debian-node18 unpacks that Node into .test-cache/node18/root.
const ROOT = fileURLToPath(new URL("../../.test-cache/node18/root", import.meta.url));
const NODE18 = join(ROOT, "usr/bin/node");
const available = existsSync(NODE18) && existsSync("/usr/bin/bwrap");
if (!available && process.env["ACTVM_REQUIRE_ALL"] === "1") {
  throw new Error("Debian's Node 18 or bwrap is missing (run scripts/setup): required in CI");
}

describe.skipIf(!available)(
  "the guest agent on Debian 12's Node 18 (needs scripts/fetch-debian-node18 and bwrap)",
  () => {
    let work: string;
    let agentFile: string;
    let child: ChildProcessWithoutNullStreams;
    let agent: ConnectedAgent;

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), "actvm-node18-"));
      agentFile = join(work, "agent.cjs");
      await build({
        entryPoints: [fileURLToPath(new URL("./agent/main.ts", import.meta.url))],
        outfile: agentFile,
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node18",
        logLevel: "warning",
      });
      // Debian's node loads some built-ins from /usr/share/nodejs, so that directory is put in
      // place inside a bubblewrap namespace rather than installed on the host.
      child = spawn(
        "bwrap",
        [
          "--ro-bind",
          "/",
          "/",
          "--tmpfs",
          "/usr/share",
          "--ro-bind",
          join(ROOT, "usr/share/nodejs"),
          "/usr/share/nodejs",
          "--bind",
          work,
          work,
          "--dev",
          "/dev",
          "--proc",
          "/proc",
          "--die-with-parent",
          "--setenv",
          "LD_LIBRARY_PATH",
          join(ROOT, "usr/lib/x86_64-linux-gnu"),
          NODE18,
          agentFile,
        ],
        { stdio: ["pipe", "pipe", "pipe"] },
      );
      agent = await connectAgent(
        { input: child.stdout, output: child.stdin },
        { subsystem: "test/node18", readyTimeoutMs: 20_000 },
      );
    });

    afterAll(async () => {
      await agent?.close().catch(() => undefined);
      child?.kill("SIGKILL");
      rmSync(work, { recursive: true, force: true });
    });

    it("reports Node 18 and runs commands with streamed output, files and exit codes", async () => {
      expect(agent.hello.node).toMatch(/^v?18\./);
      const out: Buffer[] = [];
      const res = await agent.exec(
        {
          argv: ["bash", "-c", 'cat "$F"; echo err >&2; echo "k=v" > "$O"; exit 3'],
          cwd: work,
          env: { PATH: "/usr/bin:/bin", F: join(work, "in.txt"), O: join(work, "out.txt") },
          files: [{ path: join(work, "in.txt"), content: "from host\n" }],
          collect: [join(work, "out.txt"), join(work, "missing")],
        },
        { onStdout: (c) => out.push(c) },
      ).result;
      expect(Buffer.concat(out).toString()).toBe("from host\n");
      expect(res.exitCode).toBe(3);
      expect(res.collected).toEqual(["k=v\n", null]);
    });

    it("enforces a timeout by killing the command", async () => {
      const res = await agent.exec({
        argv: ["bash", "-c", "trap '' INT; sleep 30"],
        cwd: work,
        env: { PATH: "/usr/bin:/bin" },
        timeoutMs: 300,
        graceMs: { interrupt: 200, terminate: 200 },
      }).result;
      expect(res.timedOut).toBe(true);
      expect(res.exitCode).not.toBe(0);
    });

    it("moves files in and out as tar and hashes them", async () => {
      writeFileSync(join(work, "seed.txt"), "x");
      const chunks: Buffer[] = [];
      for await (const c of agent.getTar(join(work, "seed.txt"))) chunks.push(c);
      await agent.putTar(join(work, "copy"), Buffer.concat(chunks));
      const hash = await agent.hashFiles(join(work, "copy"), ["**/*.txt"]);
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(await agent.hashFiles(join(work, "copy"), ["**/*.none"])).toBe("");
    });
  },
);
