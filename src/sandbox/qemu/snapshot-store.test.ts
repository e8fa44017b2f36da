import { existsSync } from "node:fs";
import { appendFile, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { snapshotKey, type SnapshotKeyInput } from "./snapshot-key.ts";
import {
  discardTemplate,
  loadTemplate,
  saveTemplate,
  TEMPLATE_DISK_FILE,
  TEMPLATE_STATE_FILE,
} from "./snapshot-store.ts";

const hello = {
  type: "hello" as const,
  protocol: 1,
  version: "0.1.0",
  node: "v18.20.4",
  platform: "linux",
  pid: 1,
};

describe("VM snapshot store", () => {
  let work: string;
  let dir: string;
  let input: SnapshotKeyInput;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), "actvm-snapstore-"));
    dir = join(work, "snapshots");
    for (const f of ["rootfs", "kernel", "initrd", "qemu"]) await writeFile(join(work, f), f);
    input = {
      imageId: "default-0123",
      imageHash: "ab".repeat(32),
      rootfsImage: join(work, "rootfs"),
      cpus: 1,
      memoryMb: 512,
      accel: "tcg",
      tscKhz: 2_000_000,
      kernel: join(work, "kernel"),
      initrd: join(work, "initrd"),
      qemu: join(work, "qemu"),
    };
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const build = async (tmp: string) => {
    await writeFile(join(tmp, TEMPLATE_STATE_FILE), "ram");
    await writeFile(join(tmp, TEMPLATE_DISK_FILE), "disk");
    return { hello };
  };

  it("keys a template by size, accelerator and every file it depends on", async () => {
    const base = await snapshotKey(input);
    expect(base.hash).toMatch(/^[0-9a-f]{24}$/);
    expect((await snapshotKey(input)).hash).toBe(base.hash);
    expect((await snapshotKey({ ...input, memoryMb: 1024 })).hash).not.toBe(base.hash);
    expect((await snapshotKey({ ...input, accel: "kvm" })).hash).not.toBe(base.hash);
    // Replacing the kernel in place (same path) changes the key too.
    await writeFile(input.kernel, "another kernel");
    expect((await snapshotKey(input)).hash).not.toBe(base.hash);
  });

  it("saves a template whole under its key, read-only, and loads it back", async () => {
    const key = await snapshotKey(input);
    expect(await loadTemplate(dir, key)).toBeNull();
    const saved = await saveTemplate(dir, key, build);
    expect(saved.dir).toBe(join(dir, key.hash));
    expect(saved.record.hello).toEqual(hello);
    expect((await stat(saved.disk)).mode & 0o222).toBe(0);
    expect(await readdir(dir)).toEqual([key.hash]);
    const loaded = await loadTemplate(dir, key);
    expect(loaded?.record).toEqual(saved.record);
  });

  it("leaves nothing behind when the build fails", async () => {
    const key = await snapshotKey(input);
    await expect(
      saveTemplate(dir, key, async (tmp) => {
        await writeFile(join(tmp, TEMPLATE_STATE_FILE), "half");
        throw new Error("QEMU died");
      }),
    ).rejects.toThrow("QEMU died");
    expect(await readdir(dir)).toEqual([]);
  });

  it("deletes a template whose state or disk changed, or whose key parts differ", async () => {
    const key = await snapshotKey(input);
    const saved = await saveTemplate(dir, key, build);
    await appendFile(saved.state, "x");
    expect(await loadTemplate(dir, key)).toBeNull();
    expect(existsSync(saved.dir)).toBe(false);

    const again = await saveTemplate(dir, key, build);
    const later = new Date(Date.now() + 5000);
    await utimes(again.disk, later, later);
    expect(await loadTemplate(dir, key)).toBeNull();

    await saveTemplate(dir, key, build);
    expect(await loadTemplate(dir, { ...key, parts: { ...key.parts, cpus: 2 } })).toBeNull();
    expect(await readdir(dir)).toEqual([]);
  });

  it("discards a template on request", async () => {
    const key = await snapshotKey(input);
    const saved = await saveTemplate(dir, key, build);
    await discardTemplate(saved);
    expect(await readdir(dir)).toEqual([]);
    await discardTemplate(saved);
  });
});
