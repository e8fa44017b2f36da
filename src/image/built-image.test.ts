import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBundlePath, connectAgent, type ConnectedAgent } from "../guest/index.ts";
import { buildImage, planImage } from "./build-image.ts";
import { findImage } from "./find-image.ts";
import type { ImageInfo } from "./image-info.ts";
import { ACTVM_INIT_SCRIPT } from "./init-script.ts";

// scripts/build-test-image builds the default image here once (scripts/setup calls it).
const IMAGES = fileURLToPath(new URL("../../.test-cache/images", import.meta.url));
const found = await findImage(IMAGES, "default");
const current = found && found.hash === (await planImage({})).hash ? found : undefined;
const usable = current !== undefined && process.getuid?.() === 0;
if (!usable && process.env["ACTVM_REQUIRE_ALL"] === "1")
  throw new Error(
    found
      ? "the test image in .test-cache/images is stale or we are not root (run scripts/build-test-image as root): required in CI"
      : "no test image in .test-cache/images (run scripts/build-test-image as root): required in CI",
  );

describe.skipIf(!usable)(
  "the default guest image (needs root and scripts/build-test-image; skipped when absent or stale)",
  () => {
    const image = current as ImageInfo;
    const inTree = (p: string): string => path.join(image.rootfsDir, p);

    it("holds the agent bundle and an executable init script", () => {
      expect(readFileSync(inTree("opt/actvm/agent.cjs"))).toEqual(readFileSync(agentBundlePath()));
      const init = inTree("sbin/actvm-init");
      expect(readFileSync(init, "utf8")).toBe(ACTVM_INIT_SCRIPT);
      expect(statSync(init).mode & 0o777).toBe(0o755);
    });

    it("runs Debian 12's Node 18 and has the tools jobs expect", () => {
      const run = (...argv: string[]): string =>
        execFileSync("chroot", [image.rootfsDir, ...argv], {
          encoding: "utf8",
          env: { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", LC_ALL: "C" },
        });
      expect(run("node", "--version")).toMatch(/^v18\./);
      for (const tool of ["bash", "git", "curl", "jq", "python3", "gcc", "make", "sudo", "zstd"])
        expect(run("sh", "-c", `command -v ${tool}`).trim(), tool).not.toBe("");
    });

    it("has the runner user with passwordless sudo and its work directories", () => {
      const passwd = readFileSync(inTree("etc/passwd"), "utf8");
      expect(passwd).toMatch(/^runner:x:1001:\d+:[^:]*:\/home\/runner:\/bin\/bash$/m);
      expect(readFileSync(inTree("etc/sudoers.d/runner"), "utf8")).toBe(
        "runner ALL=(ALL) NOPASSWD:ALL\n",
      );
      expect(statSync(inTree("etc/sudoers.d/runner")).mode & 0o777).toBe(0o440);
      const rules = execFileSync("chroot", [image.rootfsDir, "sudo", "-n", "-l", "-U", "runner"], {
        encoding: "utf8",
        env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin", LC_ALL: "C" },
        stdio: ["ignore", "pipe", "ignore"],
      });
      expect(rules).toMatch(/\(ALL\) NOPASSWD: ALL/);
      for (const d of ["workspace", "_temp", "_actions", "_tool"])
        expect(statSync(inTree(`home/runner/work/${d}`)).uid, d).toBe(1001);
    });

    it("carries no DNS configuration, machine-id or apt caches", () => {
      expect(readFileSync(inTree("etc/resolv.conf"), "utf8")).toBe("");
      expect(readFileSync(inTree("etc/machine-id"), "utf8")).toBe("");
      const debs = execFileSync("find", [inTree("var/cache/apt/archives"), "-name", "*.deb"], {
        encoding: "utf8",
      });
      expect(debs).toBe("");
    });

    it("has a valid ext4 image labelled actvm-root holding the same init script", () => {
      execFileSync("e2fsck", ["-fn", image.rootfsImage], { stdio: "pipe" });
      expect(statSync(image.rootfsImage).size).toBe(image.sizeBytes);
      const label = execFileSync("e2label", [image.rootfsImage], { encoding: "utf8" });
      expect(label.trim()).toBe("actvm-root");
      const script = execFileSync(
        "debugfs",
        ["-R", "cat /usr/sbin/actvm-init", image.rootfsImage],
        { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
      );
      expect(script).toBe(ACTVM_INIT_SCRIPT);
    });

    it("is a cache hit when rebuilt, in well under a second", async () => {
      const t = Date.now();
      const r = await buildImage({ imagesDir: IMAGES });
      expect(Date.now() - t).toBeLessThan(500);
      expect(r.cached).toBe(true);
      expect(r.image.id).toBe(image.id);
    });

    describe("the installed agent, started in the tree", () => {
      let child: ChildProcessWithoutNullStreams;
      let agent: ConnectedAgent;
      beforeAll(async () => {
        child = spawn(
          "bwrap",
          [
            "--ro-bind",
            image.rootfsDir,
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
            // Not a user namespace: sudo must switch to uid 1001, which one would not map.
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-net",
            "--die-with-parent",
            "/usr/bin/node",
            "/opt/actvm/agent.cjs",
          ],
          { stdio: ["pipe", "pipe", "pipe"] },
        );
        agent = await connectAgent(
          { input: child.stdout, output: child.stdin },
          { subsystem: "test/image", readyTimeoutMs: 20_000 },
        );
      });
      afterAll(async () => {
        await agent?.close().catch(() => undefined);
        child?.kill("SIGKILL");
      });

      it("answers on Node 18 and runs a command as the runner user", async () => {
        expect(agent.hello.node).toMatch(/^v?18\./);
        const out: Buffer[] = [];
        const res = await agent.exec(
          {
            // bwrap sets no_new_privs, so only root-to-runner can be shown here, not runner-to-root.
            argv: ["sudo", "-n", "-u", "runner", "sh", "-c", "id -un; id -u"],
            cwd: "/",
            env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" },
          },
          { onStdout: (c) => out.push(c) },
        ).result;
        expect(Buffer.concat(out).toString()).toBe("runner\n1001\n");
        expect(res.exitCode).toBe(0);
      });
    });
  },
);
