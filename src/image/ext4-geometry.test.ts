import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, linkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ext4Geometry, measureTree } from "./ext4-geometry.ts";

const MIB = 1024 * 1024;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("ext4Geometry", () => {
  it("sizes the image at the tree × 1.3 + 256 MiB, rounded up to a MiB", () => {
    expect(ext4Geometry({ bytes: 500 * MIB, inodes: 10 }).sizeMiB).toBe(906);
    expect(ext4Geometry({ bytes: 1, inodes: 1 }).sizeMiB).toBe(257);
  });

  it("gives a tree with many small files enough inodes", () => {
    const g = ext4Geometry({ bytes: 10 * MIB, inodes: 200_000 });
    expect(g.inodes).toBeGreaterThanOrEqual(300_000);
    expect(ext4Geometry({ bytes: 1000 * MIB, inodes: 10 }).inodes).toBe(
      Math.ceil((1556 * MIB) / 16384),
    );
  });
});

describe("measureTree", () => {
  it("counts files, directories and links once, hard links sharing one inode", () => {
    const d = mkdtempSync(path.join(os.tmpdir(), "actvm-measure-"));
    dirs.push(d);
    mkdirSync(path.join(d, "sub"));
    writeFileSync(path.join(d, "sub", "big"), Buffer.alloc(1024 * 1024, 1));
    linkSync(path.join(d, "sub", "big"), path.join(d, "hard"));
    symlinkSync("/etc/passwd", path.join(d, "link"));
    return measureTree(d).then((u) => {
      // root, sub, big (once), link
      expect(u.inodes).toBe(4);
      expect(u.bytes).toBeGreaterThanOrEqual(1024 * 1024);
      expect(u.bytes).toBeLessThan(2 * 1024 * 1024);
    });
  });
});
