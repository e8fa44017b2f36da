import { lstat, readdir } from "node:fs/promises";
import path from "node:path";

const MIB = 1024 * 1024;

/** What a tree occupies: bytes on disk (whole blocks) and the number of inodes it needs. */
export interface TreeUsage {
  bytes: number;
  inodes: number;
}

/** Walks a directory tree without following symlinks or crossing into other file systems. */
export async function measureTree(root: string): Promise<TreeUsage> {
  const top = await lstat(root);
  const usage: TreeUsage = { bytes: 0, inodes: 0 };
  const seen = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    for (const entry of await readdir(dir)) {
      const p = path.join(dir, entry);
      const st = await lstat(p);
      if (st.dev !== top.dev) continue;
      // Hard links share one inode and its blocks.
      const key = `${st.ino}`;
      if (st.nlink > 1 && !st.isDirectory()) {
        if (seen.has(key)) continue;
        seen.add(key);
      }
      usage.inodes++;
      usage.bytes += Math.max(st.blocks * 512, st.isDirectory() ? 4096 : 0);
      if (st.isDirectory()) stack.push(p);
    }
  }
  usage.inodes++;
  usage.bytes += 4096;
  return usage;
}

/** Size and inode count for an ext4 file system that holds a tree with room to spare. */
export interface Ext4Geometry {
  /** Whole MiB. */
  sizeMiB: number;
  inodes: number;
}

/**
 * The image holds the tree × 1.3 + 256 MiB (room for the files jobs write, since VMs write to a
 * copy-on-write overlay of it), rounded up to a MiB, with 1.5 × the tree's inodes + 16384 but
 * never fewer than ext4's default of one per 16 KiB.
 *
 * @example
 * ext4Geometry({ bytes: 500 * 1024 ** 2, inodes: 20_000 }).sizeMiB; // 906
 */
export function ext4Geometry(usage: TreeUsage): Ext4Geometry {
  const sizeMiB = Math.ceil((usage.bytes * 1.3 + 256 * MIB) / MIB);
  const inodes = Math.max(
    Math.ceil((sizeMiB * MIB) / 16384),
    Math.ceil(usage.inodes * 1.5) + 16384,
  );
  return { sizeMiB, inodes };
}
