import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isActvmError } from "../shared/errors.ts";
import { buildImage, planImage } from "./build-image.ts";
import { fakeImage } from "./image-store.test-support.ts";

const canDebootstrap = process.getuid?.() === 0 && existsSync("/usr/sbin/debootstrap");
if (!canDebootstrap && process.env["ACTVM_REQUIRE_ALL"] === "1")
  throw new Error("image build tests need root and debootstrap (run scripts/setup as root)");

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "actvm-build-"));
  dirs.push(d);
  return d;
}

function leftovers(imagesDir: string): string[] {
  const names = existsSync(imagesDir) ? readdirSync(imagesDir) : [];
  const mounts = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .filter((l) => l.includes(imagesDir));
  return [...names.filter((n) => n !== ".debs"), ...mounts];
}

describe("planImage", () => {
  it("takes name and packages from an image file, the --name flag winning", async () => {
    const d = tmp();
    const file = path.join(d, "image.yml");
    writeFileSync(file, "name: ci\ninclude: [ripgrep]\n");
    const fromFile = await planImage({ imageFile: file });
    expect(fromFile.name).toBe("ci");
    expect(fromFile.definition.packages).toContain("ripgrep");
    expect(fromFile.id).toBe(`ci-${fromFile.hash.slice(0, 12)}`);
    const renamed = await planImage({ imageFile: file, name: "other" });
    expect(renamed.id).toBe(`other-${fromFile.hash.slice(0, 12)}`);
    const viaFlag = await planImage({ include: ["ripgrep"] });
    expect(viaFlag.hash).toBe(fromFile.hash);
    expect(viaFlag.name).toBe("default");
  });

  it("rejects bad package names, bad image names and invalid image files as USAGE", async () => {
    const d = tmp();
    const bad = path.join(d, "bad.yml");
    writeFileSync(bad, "include:\n  - ok\n  - NOT_OK\n");
    for (const p of [
      planImage({ include: ["rm -rf /"] }),
      planImage({ name: "../escape" }),
      planImage({ imageFile: bad }),
    ]) {
      const err = await p.catch((e: unknown) => e);
      expect(isActvmError(err, "USAGE")).toBe(true);
    }
    const err = (await planImage({ imageFile: bad }).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(`${bad}:3:5`);
  });
});

describe("buildImage", () => {
  it("returns an existing image with the same definition without building", async () => {
    const d = tmp();
    const plan = await planImage({});
    // Pretend a build of exactly this definition finished earlier.
    fakeImage(d, "default", plan.hash, "2026-01-01T00:00:00.000Z");
    const r = await buildImage({ imagesDir: d });
    expect(r.cached).toBe(true);
    expect(r.image.id).toBe(plan.id);
    expect(r.image.dir).toBe(path.join(d, plan.id));
  });

  it.skipIf(!canDebootstrap)(
    "fails at debootstrap for an unknown package, naming it, and leaves nothing behind",
    async () => {
      const d = path.join(tmp(), "images");
      // Debris under the image's id (no valid record) is cleared, not mistaken for an image.
      const plan = await planImage({ include: ["actvm-no-such-package"] });
      mkdirSync(path.join(d, plan.id, "rootfs"), { recursive: true });
      const progress: string[] = [];
      const err = await buildImage({
        imagesDir: d,
        include: ["actvm-no-such-package"],
        onProgress: (l) => progress.push(l),
      }).catch((e: unknown) => e);
      expect(isActvmError(err, "IMAGE_BUILD")).toBe(true);
      expect((err as Error).message).toMatch(/debootstrap exited with \d+/);
      expect((err as Error).message).toContain("actvm-no-such-package");
      expect(progress[0]).toMatch(/^debootstrap: bookworm \S+ from \S+ \(\S+:\d+\)/);
      expect(leftovers(d)).toEqual([]);
    },
  );

  it.skipIf(!canDebootstrap)(
    "on abort kills debootstrap, removes the build directory and rejects with CANCELLED",
    async () => {
      const d = path.join(tmp(), "images");
      const ac = new AbortController();
      const err = await buildImage({
        imagesDir: d,
        include: ["actvm-abort-test"],
        signal: ac.signal,
        onProgress: (l) => {
          if (l.startsWith("debootstrap: I:")) ac.abort();
        },
      }).catch((e: unknown) => e);
      expect(isActvmError(err, "CANCELLED")).toBe(true);
      expect(leftovers(d)).toEqual([]);
    },
  );
});
