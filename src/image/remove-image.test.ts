import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isActvmError } from "../shared/errors.ts";
import { findImage } from "./find-image.ts";
import { fakeImage } from "./image-store.test-support.ts";
import { listImages } from "./list-images.ts";
import { removeImage } from "./remove-image.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function imagesDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "actvm-images-"));
  dirs.push(d);
  return d;
}

describe("listImages and findImage", () => {
  it("lists finished images newest first and ignores builds, removals and junk", async () => {
    const d = imagesDir();
    const old = fakeImage(d, "default", "a", "2026-01-01T00:00:00.000Z");
    const ci = fakeImage(d, "ci", "b", "2026-02-01T00:00:00.000Z");
    const fresh = fakeImage(d, "default", "c", "2026-03-01T00:00:00.000Z");
    mkdirSync(path.join(d, ".tmp-abc"));
    mkdirSync(path.join(d, "default-000000000000"));
    writeFileSync(path.join(d, "default-000000000000", "image.json"), "{not json");
    // A record whose id does not match its directory is someone else's copy, not an image here.
    mkdirSync(path.join(d, "moved"));
    writeFileSync(
      path.join(d, "moved", "image.json"),
      JSON.stringify({ ...JSON.parse("{}"), version: 1 }),
    );
    const images = await listImages(d);
    expect(images.map((i) => i.id)).toEqual([fresh, ci, old]);
    expect(images[0]).toMatchObject({
      dir: path.join(d, fresh),
      rootfsDir: path.join(d, fresh, "rootfs"),
      rootfsImage: path.join(d, fresh, "rootfs.ext4"),
      sizeBytes: 1024,
    });
    expect((await findImage(d, "default"))?.id).toBe(fresh);
    expect(await findImage(d, "nope")).toBeUndefined();
  });

  it("returns nothing for a missing images directory", async () => {
    expect(await listImages(path.join(imagesDir(), "none"))).toEqual([]);
  });
});

describe("removeImage", () => {
  it("removes exactly the image an id names", async () => {
    const d = imagesDir();
    const a = fakeImage(d, "default", "a", "2026-01-01T00:00:00.000Z");
    const b = fakeImage(d, "default", "b", "2026-02-01T00:00:00.000Z");
    const r = await removeImage(d, b);
    expect(r.removed.map((i) => i.id)).toEqual([b]);
    expect(existsSync(path.join(d, b))).toBe(false);
    expect((await findImage(d, "default"))?.id).toBe(a);
    expect(readdirSync(d).filter((n) => n.startsWith(".rm-"))).toEqual([]);
  });

  it("with a name, removes the older images and keeps the newest", async () => {
    const d = imagesDir();
    const a = fakeImage(d, "default", "a", "2026-01-01T00:00:00.000Z");
    const b = fakeImage(d, "default", "b", "2026-02-01T00:00:00.000Z");
    const c = fakeImage(d, "default", "c", "2026-03-01T00:00:00.000Z");
    const other = fakeImage(d, "ci", "d", "2026-01-01T00:00:00.000Z");
    const r = await removeImage(d, "default");
    expect(r.removed.map((i) => i.id).sort()).toEqual([a, b].sort());
    expect(r.kept.map((i) => i.id)).toEqual([c]);
    expect((await listImages(d)).map((i) => i.id).sort()).toEqual([c, other].sort());
  });

  it("keeps the only image of a name unless all is set", async () => {
    const d = imagesDir();
    const a = fakeImage(d, "default", "a", "2026-01-01T00:00:00.000Z");
    expect((await removeImage(d, "default")).removed).toEqual([]);
    expect(existsSync(path.join(d, a))).toBe(true);
    expect((await removeImage(d, "default", { all: true })).removed.map((i) => i.id)).toEqual([a]);
    expect(await listImages(d)).toEqual([]);
  });

  it("throws NOT_FOUND for an unknown id or name", async () => {
    const err = await removeImage(imagesDir(), "nope").catch((e: unknown) => e);
    expect(isActvmError(err, "NOT_FOUND")).toBe(true);
  });
});
