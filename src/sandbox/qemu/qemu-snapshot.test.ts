import { existsSync } from "node:fs";
import { appendFile, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isProcessAlive } from "../process-control.ts";
import type { Vm } from "../types.ts";
import { readOwnerRecord } from "../vm-dir.ts";
import {
  failWhenRequired,
  IMAGES_DIR,
  KERNEL_CACHE,
  run,
  sha256,
  SKIP_REASON,
} from "./qemu-fixture.test-support.ts";
import { createQemuProvider, type QemuProviderOptions } from "./qemu-provider.ts";

// Each boot costs seconds under TCG: one template build serves the restore, identity and
// pool checks; only the stale-template case pays for a second build.
failWhenRequired("qemu snapshots");

async function templateDirs(snapshotsDir: string): Promise<string[]> {
  return (await readdir(snapshotsDir)).filter((n) => !n.startsWith("."));
}

async function qemuPidOf(baseDir: string, id: string): Promise<number> {
  const pid = (await readOwnerRecord(join(baseDir, id)))?.processes.at(-1)?.pid;
  if (!pid) throw new Error(`no QEMU recorded for ${id}`);
  return pid;
}

async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const IDENTITY =
  "cat /etc/machine-id; hostname; head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo; cat /proc/sys/kernel/random/boot_id; date +%s; grep -c \"$(hostname)\" /etc/hosts";

describe.skipIf(SKIP_REASON !== undefined)(`qemu snapshots (${SKIP_REASON ?? "TCG"})`, () => {
  let work: string;
  let snapshotsDir: string;
  let options: QemuProviderOptions;
  let restoreMs = Infinity;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "actvm-qemu-snap-"));
    snapshotsDir = join(work, "snapshots");
    options = {
      baseDir: join(work, "vms"),
      imagesDir: IMAGES_DIR,
      kernelCacheDir: KERNEL_CACHE,
      memoryMb: 512,
      snapshots: true,
      snapshotsDir,
    };
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("restores two VMs from one snapshot with their own identity, clock and disk", async () => {
    const progress: string[] = [];
    const provider = createQemuProvider({ ...options, onProgress: (m) => progress.push(m) });
    const a = await provider.allocate({ label: "clone-a", network: false });
    let b: Vm | undefined;
    try {
      expect(progress.join("\n")).toMatch(/making a VM snapshot/);
      const [name] = await templateDirs(snapshotsDir);
      const dir = join(snapshotsDir, name as string);
      // Written whole and renamed into place: no build directory is left behind.
      expect((await readdir(snapshotsDir)).filter((n) => n.startsWith("."))).toEqual([]);
      const before = {
        state: await sha256(join(dir, "state")),
        disk: await sha256(join(dir, "disk.qcow2")),
        record: await readFile(join(dir, "template.json"), "utf8"),
      };

      const started = performance.now();
      b = await provider.allocate({ label: "clone-b", network: false });
      restoreMs = performance.now() - started;

      const [ra, rb] = await Promise.all([run(a, IDENTITY), run(b, IDENTITY)]);
      expect(ra.code).toBe(0);
      expect(rb.code).toBe(0);
      const [idA, hostA, randA, bootA, clockA, hostsA] = ra.out.trim().split("\n");
      const [idB, hostB, randB, bootB, clockB] = rb.out.trim().split("\n");
      expect(idA).toMatch(/^[0-9a-f]{32}$/);
      expect(idB).toMatch(/^[0-9a-f]{32}$/);
      expect(idA).not.toBe(idB);
      expect(hostA).toMatch(/^actvm-[0-9a-f]{8}$/);
      expect(hostA).not.toBe(hostB);
      expect(hostsA).toBe("1");
      // Same RAM, yet the kernel RNG was reseeded with host entropy in each clone.
      expect(randA).toMatch(/^[0-9a-f]{32}$/);
      expect(randA).not.toBe(randB);
      // boot_id is made by the kernel on its first read; the template never reads it, so
      // each clone makes its own after the reseed (one read before the snapshot would be shared).
      expect(bootA).toMatch(/^[0-9a-f-]{36}$/);
      expect(bootA).not.toBe(bootB);
      for (const clock of [clockA, clockB]) {
        expect(Math.abs(Number(clock) - Date.now() / 1000)).toBeLessThan(30);
      }

      const w = await run(a, "echo from-a >/home/runner/only-a && sync && echo ok");
      expect(w.out.trim()).toBe("ok");
      const seen = await run(b, "cat /home/runner/only-a 2>&1 || echo missing");
      expect(seen.out.trim()).toMatch(/missing$/);
      await provider.release(b);
      b = undefined;

      // A third clone starts from the template, not from what the other clones wrote.
      const c = await provider.allocate({ label: "clone-c", network: false });
      const seenC = await run(c, "cat /home/runner/only-a 2>&1 || echo missing");
      expect(seenC.out.trim()).toMatch(/missing$/);
      await provider.release(c);

      await provider.release(a);
      expect(await sha256(join(dir, "state"))).toBe(before.state);
      expect(await sha256(join(dir, "disk.qcow2"))).toBe(before.disk);
      expect(await readFile(join(dir, "template.json"), "utf8")).toBe(before.record);
      expect(await readdir(options.baseDir)).toEqual([]);
    } finally {
      if (b) await provider.release(b);
      await provider.release(a);
    }
  }, 180_000);

  it("restores faster than a cold boot", async () => {
    const cold = createQemuProvider({ ...options, snapshots: false });
    const started = performance.now();
    const vm = await cold.allocate({ label: "cold", network: false });
    const coldMs = performance.now() - started;
    await cold.release(vm);
    expect(restoreMs).toBeLessThan(coldMs);
  }, 120_000);

  it("hands out a pooled VM at once, refills the pool and discards a dead pooled VM", async () => {
    const provider = createQemuProvider({ ...options, warmPool: 1 });
    const spec = { label: "pooled", network: false };
    const handedOut: Vm[] = [];
    try {
      await provider.prewarm(spec);
      const started = performance.now();
      const vm = await provider.allocate(spec);
      const handOutMs = performance.now() - started;
      handedOut.push(vm);
      expect(handOutMs).toBeLessThan(2000);
      expect((await run(vm, "echo pooled")).out).toBe("pooled\n");

      // The pool refills in the background to its size.
      await provider.prewarm(spec);
      const idle = async () =>
        (await readdir(options.baseDir)).filter((n) => n !== vm.id && n.startsWith("warm-"));
      const [pooledId] = await idle();
      expect(pooledId).toBeDefined();

      // A pooled VM whose QEMU dies is released, never handed out.
      const pid = await qemuPidOf(options.baseDir, pooledId as string);
      process.kill(pid, "SIGKILL");
      await until("the dead pooled VM's release", () =>
        existsSync(join(options.baseDir, pooledId as string)) ? false : true,
      );
      const next = await provider.allocate(spec);
      handedOut.push(next);
      expect(next.id).not.toBe(pooledId);
      expect((await run(next, "echo alive")).out).toBe("alive\n");

      // close releases idle VMs and stops refilling; handed-out VMs stay the caller's.
      await provider.prewarm(spec);
      const [idleId] = await idle().then((ids) => ids.filter((i) => i !== next.id));
      const idlePid = await qemuPidOf(options.baseDir, idleId as string);
      await provider.close();
      expect(isProcessAlive({ pid: idlePid, startTime: null })).toBe(false);
      const left = await readdir(options.baseDir);
      expect(left.sort()).toEqual([vm.id, next.id].sort());
      expect((await run(vm, "echo still")).out).toBe("still\n");
    } finally {
      for (const v of handedOut) await provider.release(v);
      await provider.close();
    }
    expect(await readdir(options.baseDir)).toEqual([]);
  }, 240_000);

  it("rebuilds a template whose files no longer match its record", async () => {
    const [name] = await templateDirs(snapshotsDir);
    const dir = join(snapshotsDir, name as string);
    const old = JSON.parse(await readFile(join(dir, "template.json"), "utf8")) as {
      createdAt: number;
    };
    await appendFile(join(dir, "state"), "x");
    const progress: string[] = [];
    const provider = createQemuProvider({ ...options, onProgress: (m) => progress.push(m) });
    const vm = await provider.allocate({ label: "rebuilt", network: false });
    try {
      expect(progress.join("\n")).toMatch(/making a VM snapshot/);
      expect((await run(vm, "echo ok")).out).toBe("ok\n");
      const fresh = JSON.parse(await readFile(join(dir, "template.json"), "utf8")) as {
        createdAt: number;
      };
      expect(fresh.createdAt).toBeGreaterThan(old.createdAt);
      expect(await templateDirs(snapshotsDir)).toEqual([name]);
    } finally {
      await provider.release(vm);
    }
  }, 180_000);
});
