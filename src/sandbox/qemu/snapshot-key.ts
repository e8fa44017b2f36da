import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";

/** Everything a VM snapshot depends on: restoring it under any other value would be unsafe. */
export interface SnapshotKeyInput {
  /** Image id and content hash (the definition, agent bundle and init script). */
  imageId: string;
  imageHash: string;
  /** The raw root image the template overlay is backed by. */
  rootfsImage: string;
  cpus: number;
  memoryMb: number;
  accel: string;
  /** TSC rate on the kernel command line (TCG), part of the guest's frozen state. */
  tscKhz?: number;
  kernel: string;
  initrd: string;
  /** The QEMU binary: migration streams are only reliably loadable by the same build. */
  qemu: string;
}

/** A snapshot key: `hash` names the template directory, `parts` is recorded beside it. */
export interface SnapshotKey {
  hash: string;
  parts: Record<string, string | number | null>;
}

async function fileStamp(path: string): Promise<string> {
  const info = await stat(path);
  return `${resolve(path)}:${info.size}:${Math.trunc(info.mtimeMs)}`;
}

/**
 * Computes the key of a VM template. Files enter it by path, size and mtime, so replacing the
 * image, kernel, initramfs or QEMU (even in place) yields a new key and thus a new template.
 */
export async function snapshotKey(input: SnapshotKeyInput): Promise<SnapshotKey> {
  const parts: Record<string, string | number | null> = {
    format: 1,
    imageId: input.imageId,
    imageHash: input.imageHash,
    rootfs: await fileStamp(input.rootfsImage),
    cpus: input.cpus,
    memoryMb: input.memoryMb,
    accel: input.accel,
    tscKhz: input.tscKhz === undefined ? null : Math.round(input.tscKhz),
    kernel: await fileStamp(input.kernel),
    initrd: await fileStamp(input.initrd),
    qemu: await fileStamp(input.qemu),
  };
  const hash = createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 24);
  return { hash, parts };
}
