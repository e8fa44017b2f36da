// bench/vm-start: how long each sandbox backend takes from "allocate" to a ready agent, the
// round trip of one `true` through the agent, and release — for qemu (saying KVM or TCG),
// gvisor, bwrap and host in one run. Snapshot restore and warm-pool hand-out are not built
// yet (issue #3) and are reported as such.
// Run: npx tsx bench/vm-start.ts [boots-per-backend]   (needs the test image: scripts/build-test-image)
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createProvider, type BackendName } from "../src/sandbox/index.ts";

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
  }
  console.log("  snapshot restore and warm-pool hand-out: not implemented yet (issue #3)");
} finally {
  await rm(base, { recursive: true, force: true });
}
