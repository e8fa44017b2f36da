// bench/vm-start: how long each sandbox backend takes from "allocate" to a ready agent, the
// round trip of one `true` through the agent, and release — for qemu (saying KVM or TCG),
// gvisor, bwrap and host in one run. For qemu also: making the VM snapshot, restoring it to a
// ready agent (with fresh identity), and handing out a VM from a warm pool plus its first exec.
// Run: npx tsx bench/vm-start.ts [boots-per-backend]   (needs the test image: scripts/build-test-image)
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createProvider, createQemuProvider, type BackendName } from "../src/sandbox/index.ts";

const BOOTS = Number(process.argv[2] ?? 3);
const EXECS = 20;
const root = fileURLToPath(new URL("..", import.meta.url));
const imagesDir = process.env.ACTVM_TEST_IMAGES_DIR ?? path.join(root, ".test-cache", "images");
const kernelCacheDir = path.join(root, ".test-cache", "kernels");

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

const base = await mkdtemp(path.join(os.tmpdir(), "actvm-bench-vm-"));
console.log(
  `bench/vm-start: ${BOOTS} boots and ${EXECS} exec round trips per backend, ${os.cpus().length} CPUs`,
);
try {
  for (const name of ["qemu", "gvisor", "bwrap", "host"] as BackendName[]) {
    const provider = createProvider(name, { baseDir: base, imagesDir, kernelCacheDir });
    const probe = await provider.probe();
    if (!probe.available) {
      console.log(`  ${name.padEnd(6)}: skipped (${probe.detail})`);
      continue;
    }
    // One warm-up allocation (qemu fetches its kernel and builds the initramfs on first use).
    await provider.release(
      await provider.allocate({ label: `bench-${name}-warm`, network: false }),
    );
    const ready: number[] = [];
    const exec: number[] = [];
    const release: number[] = [];
    for (let i = 0; i < BOOTS; i++) {
      let t = performance.now();
      const vm = await provider.allocate({ label: `bench-${name}-${i}`, network: false });
      ready.push(performance.now() - t);
      const agent = vm.agent();
      for (let j = 0; j < EXECS; j++) {
        t = performance.now();
        await agent.exec({ argv: ["true"], cwd: "/", env: { PATH: "/usr/bin:/bin" } }).result;
        exec.push(performance.now() - t);
      }
      t = performance.now();
      await provider.release(vm);
      release.push(performance.now() - t);
    }
    console.log(
      `  ${name.padEnd(6)}: agent ready ${median(ready).toFixed(0)} ms (min ${Math.min(...ready).toFixed(0)}), ` +
        `exec round trip ${median(exec).toFixed(1)} ms, release ${median(release).toFixed(0)} ms — ${probe.detail}`,
    );
    if (name === "qemu") await benchSnapshots(median(ready));
  }
} finally {
  await rm(base, { recursive: true, force: true });
}

async function benchSnapshots(coldMs: number): Promise<void> {
  const snapshotsDir = path.join(base, "snapshots");
  const common = { baseDir: base, imagesDir, kernelCacheDir, snapshots: true, snapshotsDir };
  const qemu = createQemuProvider(common);
  // The first allocation makes the template (boot + snapshot), then restores it.
  let t = performance.now();
  await qemu.release(await qemu.allocate({ label: "bench-snap-first", network: false }));
  const firstMs = performance.now() - t;
  const [key] = (await readdir(snapshotsDir)).filter((n) => !n.startsWith("."));
  const record = JSON.parse(
    await readFile(path.join(snapshotsDir, key as string, "template.json"), "utf8"),
  ) as { buildMs: number };
  const restore: number[] = [];
  for (let i = 0; i < BOOTS; i++) {
    t = performance.now();
    const vm = await qemu.allocate({ label: `bench-restore-${i}`, network: false });
    restore.push(performance.now() - t);
    await qemu.release(vm);
  }
  const restoreMs = median(restore);
  console.log(
    `  qemu snapshot: made in ${record.buildMs.toFixed(0)} ms (boot + save; first VM ${firstMs.toFixed(0)} ms), ` +
      `restore to agent ready with fresh identity ${restoreMs.toFixed(0)} ms (min ${Math.min(...restore).toFixed(0)}), ` +
      `cold/restore ${(coldMs / restoreMs).toFixed(1)}x`,
  );

  const pooled = createQemuProvider({ ...common, warmPool: 1 });
  const handOut: number[] = [];
  const firstStep: number[] = [];
  try {
    for (let i = 0; i < BOOTS; i++) {
      await pooled.prewarm({ label: "bench-pool", network: false });
      t = performance.now();
      const vm = await pooled.allocate({ label: `bench-pool-${i}`, network: false });
      handOut.push(performance.now() - t);
      await vm.agent().exec({ argv: ["true"], cwd: "/", env: { PATH: "/usr/bin:/bin" } }).result;
      firstStep.push(performance.now() - t);
      await pooled.release(vm);
    }
  } finally {
    await pooled.close();
  }
  console.log(
    `  qemu warm pool: hand-out ${median(handOut).toFixed(1)} ms (max ${Math.max(...handOut).toFixed(1)}), ` +
      `hand-out + first exec ${median(firstStep).toFixed(0)} ms (max ${Math.max(...firstStep).toFixed(0)})`,
  );
}
