import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import {
  access,
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { ActvmError } from "../shared/errors.ts";
import { GUEST_KERNEL_MODULES, type GuestKernel } from "./kernel-fetch.ts";
import { INIT_APPLETS, initramfsInitScript } from "./initramfs-init-script.ts";
import { moduleLoadOrder } from "./initramfs-module-order.ts";
import { runTool } from "./kernel-run-tool.ts";

const SUBSYSTEM = "image/initramfs";

/** Options of {@link buildInitramfs}. */
export interface BuildInitramfsOptions {
  kernel: GuestKernel;
  /** Initramfs archives are kept in `<cacheDir>/initramfs-<version>-<hash>.cpio.gz`. */
  cacheDir: string;
  /** Modules to load at boot, with their dependencies. Default: the kernel's guest modules. */
  modules?: readonly string[];
  /**
   * A statically linked busybox. Default `/bin/busybox` when it is static (Debian's
   * `busybox-static`), else one fetched with `apt-get download busybox-static`.
   */
  busyboxPath?: string;
  onProgress?(message: string): void;
}

/**
 * Builds (or finds in the cache) the gzip-compressed `newc` initramfs that boots a microVM
 * guest on `kernel`: a static busybox, the virtio modules in dependency order and an `/init`
 * that mounts `/dev/vda` and switches to the root disk's `/sbin/actvm-init`. The cache key is
 * the kernel version plus a hash of everything packed, so a changed script or busybox yields a
 * new archive. Returns the archive's path.
 *
 * @example
 * const initrd = await buildInitramfs({ kernel: await fetchKernel({ cacheDir }), cacheDir });
 */
export async function buildInitramfs(options: BuildInitramfsOptions): Promise<string> {
  const cacheDir = resolve(options.cacheDir);
  const progress = options.onProgress ?? (() => undefined);
  await mkdir(cacheDir, { recursive: true, mode: 0o755 });
  const order = moduleLoadOrder(
    await readFile(join(options.kernel.modulesDir, "modules.dep"), "utf8"),
    options.modules ?? GUEST_KERNEL_MODULES,
  );
  const tmp = await mkdtemp(join(cacheDir, ".initramfs-"));
  try {
    const busybox = options.busyboxPath ?? (await findStaticBusybox(tmp, progress));
    const busyboxBytes = await readFile(busybox);
    if (!isStaticElf(busyboxBytes)) {
      throw new ActvmError("IMAGE_BUILD", `${busybox} is not a statically linked program`, {
        subsystem: SUBSYSTEM,
        hint: "apt-get install busybox-static",
      });
    }
    const script = initramfsInitScript(order.map((m) => m.name));
    const hash = createHash("sha256");
    hash.update(script).update(busyboxBytes);
    const moduleBytes: Buffer[] = [];
    for (const m of order) {
      const bytes = await readFile(join(options.kernel.modulesDir, m.path));
      moduleBytes.push(bytes);
      hash.update(m.name).update(bytes);
    }
    const key = hash.digest("hex").slice(0, 16);
    const target = join(cacheDir, `initramfs-${options.kernel.version}-${key}.cpio.gz`);
    try {
      await access(target);
      return target;
    } catch {
      // Not built yet.
    }
    progress(`building initramfs for ${options.kernel.version}`);

    const root = join(tmp, "root");
    for (const d of ["bin", "dev", "proc", "sys", "newroot", "lib/modules"]) {
      await mkdir(join(root, d), { recursive: true, mode: 0o755 });
    }
    await writeFile(join(root, "bin/busybox"), busyboxBytes, { mode: 0o755 });
    for (const applet of INIT_APPLETS) await symlink("busybox", join(root, "bin", applet));
    for (const [i, m] of order.entries()) {
      await writeFile(join(root, "lib/modules", `${m.name}.ko`), moduleBytes[i] as Buffer, {
        mode: 0o644,
      });
    }
    await writeFile(join(root, "init"), script, { mode: 0o755 });
    await chmod(join(root, "init"), 0o755);

    const partial = join(tmp, "initramfs.cpio.gz");
    await packNewc(root, partial);
    await rename(partial, target);
    return target;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** True for an ELF executable with no program interpreter, i.e. one that needs no libc. */
function isStaticElf(bytes: Buffer): boolean {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46 || bytes[4] !== 2) return false;
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  if (phoff + phnum * phentsize > bytes.length) return false;
  for (let i = 0; i < phnum; i++) {
    const PT_INTERP = 3;
    if (bytes.readUInt32LE(phoff + i * phentsize) === PT_INTERP) return false;
  }
  return true;
}

async function findStaticBusybox(tmp: string, progress: (m: string) => void): Promise<string> {
  try {
    if (isStaticElf(await readFile("/bin/busybox"))) return "/bin/busybox";
  } catch {
    // Not installed: fetch the package instead.
  }
  progress("downloading busybox-static");
  const dir = join(tmp, "busybox");
  await mkdir(dir);
  await runTool("apt-get", ["download", "-q", "busybox-static"], {
    cwd: dir,
    subsystem: SUBSYSTEM,
  });
  const deb = (await readdir(dir)).find((f) => f.endsWith(".deb"));
  if (!deb) {
    throw new ActvmError("IMAGE_BUILD", "apt-get download busybox-static produced no .deb", {
      subsystem: SUBSYSTEM,
    });
  }
  await runTool("dpkg", ["-x", deb, "x"], { cwd: dir, subsystem: SUBSYSTEM });
  const bin = join(dir, "busybox");
  await copyFile(join(dir, "x/bin/busybox"), bin);
  return bin;
}

async function listTree(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(join(root, rel), { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    out.push(path);
    if (e.isDirectory()) out.push(...(await listTree(root, path)));
  }
  return out;
}

/** Packs `root` with `cpio -H newc`, every entry owned by root, through gzip into `dest`. */
async function packNewc(root: string, dest: string): Promise<void> {
  const names = await listTree(root);
  const cpio = spawn("cpio", ["--quiet", "-o", "-H", "newc", "-R", "0:0"], {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"],
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" },
  });
  let stderr = "";
  cpio.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((done, fail) => {
    cpio.once("error", fail);
    cpio.once("close", done);
  });
  cpio.stdin.on("error", () => undefined);
  cpio.stdin.end(`${names.join("\n")}\n`);
  try {
    await Promise.all([
      pipeline(cpio.stdout, createGzip({ level: 9 }), createWriteStream(dest)),
      exited.then((code) => {
        if (code !== 0) throw new Error(`cpio exited with ${code}: ${stderr.trim()}`);
      }),
    ]);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new ActvmError(
      "IMAGE_BUILD",
      missing ? "cpio is not installed" : `packing the initramfs: ${(err as Error).message}`,
      { subsystem: SUBSYSTEM, hint: missing ? "apt-get install cpio" : undefined, cause: err },
    );
  }
}
