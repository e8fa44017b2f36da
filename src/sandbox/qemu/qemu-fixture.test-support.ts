import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findImage } from "../../image/index.ts";
import type { Vm } from "../types.ts";

// Shared by the QEMU driver's tests: where the test image and kernel cache are, why the VM
// tests would skip, and small helpers to look inside a VM.
const REPO = fileURLToPath(new URL("../../../", import.meta.url));

/** Images built by scripts/build-test-image (or ACTVM_TEST_IMAGES_DIR). */
export const IMAGES_DIR = process.env.ACTVM_TEST_IMAGES_DIR ?? join(REPO, ".test-cache/images");
/** Guest kernel and initramfs cache shared by all VM tests. */
export const KERNEL_CACHE = join(REPO, ".test-cache/kernels");
/** The default test image, when built. */
export const image = await findImage(IMAGES_DIR, "default");

const hasQemu = existsSync("/usr/bin/qemu-system-x86_64") && existsSync("/usr/bin/qemu-img");
/** Why the VM tests cannot run here, or undefined when they can. */
export const SKIP_REASON = !hasQemu
  ? "QEMU is not installed (apt-get install qemu-system-x86 qemu-utils)"
  : !image
    ? `no test image in ${IMAGES_DIR} (run scripts/build-test-image)`
    : undefined;

/** Under ACTVM_REQUIRE_ALL=1 (CI) a missing QEMU or image fails the suite instead of skipping. */
export function failWhenRequired(suite: string): void {
  if (SKIP_REASON && process.env.ACTVM_REQUIRE_ALL === "1") {
    describe(`${suite} (ACTVM_REQUIRE_ALL=1)`, () => {
      it("has QEMU and the test image", () => expect.fail(SKIP_REASON));
    });
  }
}

/** sha256 of a file, streamed. */
export async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Runs a shell script in the VM; stdout and stderr together. */
export async function run(vm: Vm, script: string): Promise<{ code: number | null; out: string }> {
  const out: Buffer[] = [];
  const r = await vm
    .agent()
    .exec(
      { argv: ["sh", "-c", script], cwd: "/", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } },
      { onStdout: (c) => out.push(c), onStderr: (c) => out.push(c) },
    ).result;
  return { code: r.exitCode, out: Buffer.concat(out).toString() };
}
