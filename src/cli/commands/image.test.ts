import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

// Drives the built CLI (test/global-setup builds dist/) as a user would.
const BIN = fileURLToPath(new URL("../../../bin/actvm.mjs", import.meta.url));

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function home(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "actvm-image-cli-"));
  dirs.push(d);
  return d;
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], h: string, prefix: string[] = []): Promise<Result> {
  const argv = [...prefix, process.execPath, BIN, ...args];
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: h,
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: h, ACTVM_HOME: h, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function addImage(h: string, name: string, digit: string, builtAt: string): string {
  const hash = digit.repeat(64);
  const id = `${name}-${hash.slice(0, 12)}`;
  const dir = path.join(h, "cache", "images", id);
  mkdirSync(path.join(dir, "rootfs"), { recursive: true });
  writeFileSync(path.join(dir, "rootfs.ext4"), "");
  writeFileSync(
    path.join(dir, "image.json"),
    JSON.stringify({
      version: 1,
      name,
      id,
      hash,
      packages: ["bash", "git"],
      sizeBytes: 700 * 1024 * 1024,
      builtAt,
      buildMs: 61_000,
      suite: "bookworm",
      arch: "amd64",
      mirror: "file:///srv/debian",
    }),
  );
  return id;
}

describe("actvm image list", () => {
  it("says how to build one when there are no images", async () => {
    const h = home();
    const r = await cli(["image", "list"], h);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no images yet.*actvm image build/);
    expect(JSON.parse((await cli(["image", "list", "--json"], h)).stdout)).toEqual([]);
  });

  it("lists images newest first and marks the one sandboxes use", async () => {
    const h = home();
    const old = addImage(h, "default", "a", "2026-01-01T00:00:00.000Z");
    const fresh = addImage(h, "default", "b", "2026-02-01T00:00:00.000Z");
    const r = await cli(["image", "list"], h);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+SIZE/);
    expect(lines[1]).toMatch(new RegExp(`^${fresh} \\*\\s+default\\s+700 MiB`));
    expect(lines[2]).toMatch(new RegExp(`^${old}\\s+default`));
    const json = JSON.parse((await cli(["image", "list", "--json"], h)).stdout) as {
      id: string;
      rootfsImage: string;
    }[];
    expect(json.map((i) => i.id)).toEqual([fresh, old]);
    expect(json[0]?.rootfsImage).toBe(path.join(h, "cache", "images", fresh, "rootfs.ext4"));
  });
});

describe("actvm image rm", () => {
  it("by name removes older versions and keeps the newest; by id removes that one", async () => {
    const h = home();
    const old = addImage(h, "default", "a", "2026-01-01T00:00:00.000Z");
    const fresh = addImage(h, "default", "b", "2026-02-01T00:00:00.000Z");
    const images = path.join(h, "cache", "images");

    const r1 = await cli(["image", "rm", "default"], h);
    expect(r1.code).toBe(0);
    expect(r1.stdout).toContain(`removed ${old}`);
    expect(r1.stderr).toContain(`kept ${fresh}`);
    expect(readdirSync(images)).toEqual([fresh]);

    const r2 = await cli(["image", "rm", "default"], h);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/--all/);
    expect(existsSync(path.join(images, fresh))).toBe(true);

    const r3 = await cli(["image", "rm", fresh], h);
    expect(r3.code).toBe(0);
    expect(readdirSync(images)).toEqual([]);
  });

  it("fails with exit 2 for an unknown image", async () => {
    const r = await cli(["image", "rm", "nope"], home());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no image with id or name 'nope'/);
  });
});

describe("actvm image build", () => {
  it("reports bad --include and --name values as diagnostics with exit 2", async () => {
    const r = await cli(["image", "build", "--include", "ripgrep,Bad!", "--name", "A B"], home());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--include.*'Bad!' is not a Debian package name/);
    expect(r.stderr).toMatch(/--name.*'A B' is not a valid image name/);
  });

  it("reports an invalid image file at its line with exit 2", async () => {
    const h = home();
    writeFileSync(path.join(h, "image.yml"), "name: ci\ninclude: [ok, NOT_OK]\nextra: 1\n");
    const r = await cli(["image", "build", "--file", "image.yml"], h);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/image\.yml:2:\d+: error: include\.1/);
    expect(r.stderr).toMatch(/image\.yml:3:1: error: unknown key 'extra'/);
  });

  it.skipIf(process.getuid?.() !== 0 || !existsSync("/usr/bin/setpriv"))(
    "without root fails with exit 2, the reason and the fix, creating nothing",
    async () => {
      const h = home();
      const r = await cli(["image", "build"], h, [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/needs root: building an image runs debootstrap/);
      expect(r.stderr).toMatch(/hint: .*sudo/);
      expect(existsSync(path.join(h, "cache"))).toBe(false);
    },
  );
});
