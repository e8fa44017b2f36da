import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, open, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildInitramfs } from "./initramfs-build.ts";
import { fetchKernel, type GuestKernel } from "./kernel-fetch.ts";
import { readKernelModuleInfo } from "./kernel-module-info.ts";

// A real download of Debian's cloud kernel (~27 MB) through the host's apt sources.
const aptWorks =
  existsSync("/usr/bin/apt-get") &&
  spawnSync("apt-cache", ["depends", "linux-image-cloud-amd64"], {
    encoding: "utf8",
  }).stdout?.includes("linux-image-");
const SKIP_REASON = aptWorks
  ? undefined
  : "apt cannot resolve linux-image-cloud-amd64 here (not Debian, or no apt lists: apt-get update)";
if (SKIP_REASON && process.env.ACTVM_REQUIRE_ALL === "1") {
  describe("guest kernel (ACTVM_REQUIRE_ALL=1)", () => {
    it("can fetch Debian's cloud kernel", () => expect.fail(SKIP_REASON));
  });
}

describe.skipIf(SKIP_REASON !== undefined)("fetchKernel and buildInitramfs", () => {
  let cacheDir: string;
  let kernel: GuestKernel;
  const progress: string[] = [];

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "actvm-kernel-"));
    kernel = await fetchKernel({ cacheDir, onProgress: (m) => progress.push(m) });
  }, 180_000);
  afterAll(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it("unpacks the versioned kernel that the meta package depends on", async () => {
    expect(kernel.version).toMatch(/^\d+\.\d+\.\d+-\d+-cloud-amd64$/);
    expect(kernel.kernel).toBe(join(cacheDir, `kernel-${kernel.version}`, "vmlinuz"));
    // A bzImage carries "HdrS" at offset 0x202.
    const fd = await open(kernel.kernel, "r");
    const { buffer } = await fd.read(Buffer.alloc(4), 0, 4, 0x202);
    await fd.close();
    expect(buffer.toString("latin1")).toBe("HdrS");
    expect(progress.some((p) => p.startsWith("downloading linux-image-"))).toBe(true);
  });

  it("keeps the virtio modules uncompressed with a modules.dep over their dependencies", async () => {
    const dep = await readFile(join(kernel.modulesDir, "modules.dep"), "utf8");
    expect(dep).toMatch(/^kernel\/drivers\/virtio\/virtio_mmio\.ko: .*virtio\.ko/m);
    expect(dep).toMatch(/^kernel\/net\/core\/failover\.ko:$/m);
    const mmio = await readFile(join(kernel.modulesDir, "kernel/drivers/virtio/virtio_mmio.ko"));
    expect(readKernelModuleInfo(mmio).name).toBe("virtio_mmio");
  });

  it("serves the second call from the cache and leaves no temporary directories", async () => {
    const before = progress.length;
    const again = await fetchKernel({ cacheDir, onProgress: (m) => progress.push(m) });
    expect(again).toEqual(kernel);
    expect(progress.slice(before).some((p) => p.startsWith("downloading"))).toBe(false);
    expect((await readdir(cacheDir)).filter((n) => n.startsWith("."))).toEqual([]);
  });

  it("packs an initramfs with busybox, the modules in load order and a /init that mounts vda", async () => {
    const initrd = await buildInitramfs({ kernel, cacheDir });
    expect(initrd).toMatch(new RegExp(`initramfs-${kernel.version}-[0-9a-f]{16}\\.cpio\\.gz$`));
    const cpio = gunzipSync(await readFile(initrd));
    const listing = execFileSync("cpio", ["-t", "--quiet"], { input: cpio }).toString().split("\n");
    expect(listing).toEqual(
      expect.arrayContaining([
        "init",
        "bin/busybox",
        "bin/switch_root",
        "lib/modules/virtio_mmio.ko",
      ]),
    );
    const init = execFileSync("cpio", ["-i", "--quiet", "--to-stdout", "init"], {
      input: cpio,
    }).toString();
    const loads = /for m in ([^;]+); do/.exec(init)?.[1]?.split(" ") ?? [];
    expect(loads.indexOf("virtio_ring")).toBeLessThan(loads.indexOf("virtio_mmio"));
    expect(loads).toEqual(expect.arrayContaining(["virtio_blk", "virtio_console", "virtio_net"]));
    expect(init).toContain("exec switch_root /newroot /sbin/actvm-init");
    // Same inputs, same archive: no rebuild.
    expect(await buildInitramfs({ kernel, cacheDir })).toBe(initrd);
    // A different module set is a different archive.
    const smaller = await buildInitramfs({ kernel, cacheDir, modules: ["virtio_blk"] });
    expect(smaller).not.toBe(initrd);
  }, 60_000);
});
