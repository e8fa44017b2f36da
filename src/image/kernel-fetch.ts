import { constants } from "node:fs";
import {
  access,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { ActvmError } from "../shared/errors.ts";
import { readKernelModuleInfo } from "./kernel-module-info.ts";
import { runTool } from "./kernel-run-tool.ts";

const SUBSYSTEM = "image/kernel";
const MANIFEST = "kernel.json";

/**
 * Modules a microVM guest needs from Debian's cloud kernel, where the virtio drivers are not
 * built in: the transport (mmio, as `-M microvm` has no PCI), the root disk, the agent's
 * serial port, the NIC for jobs with network, and an entropy source so Node starts at once.
 */
export const GUEST_KERNEL_MODULES = [
  "virtio",
  "virtio_ring",
  "virtio_mmio",
  "virtio_blk",
  "virtio_console",
  "virtio_net",
  "virtio_rng",
] as const;

/** A guest kernel unpacked in the cache. */
export interface GuestKernel {
  /** The bzImage to pass to QEMU's `-kernel`. */
  kernel: string;
  /** Holds the needed modules under `kernel/...` and a `modules.dep` over them. */
  modulesDir: string;
  /** Kernel release, e.g. `6.1.0-56-cloud-amd64`. */
  version: string;
}

/** Options of {@link fetchKernel}. */
export interface FetchKernelOptions {
  /** Kernels are kept in `<cacheDir>/kernel-<version>/`. */
  cacheDir: string;
  onProgress?(message: string): void;
  /** The meta package whose versioned dependency is the kernel. Default `linux-image-cloud-amd64`. */
  metaPackage?: string;
  /** Module names to keep, with their dependencies. Default {@link GUEST_KERNEL_MODULES}. */
  modules?: readonly string[];
}

interface Manifest {
  version: string;
  package: string;
  modules: string[];
}

const PACKAGE_NAME = /^[a-z0-9][a-z0-9.+-]+$/;

/**
 * Resolves the meta package to the versioned kernel package the host's apt would install, and
 * returns that kernel unpacked under `cacheDir`, fetching it with `apt-get download` and
 * `dpkg -x` (nothing is installed on the host) the first time. The cache entry appears by an
 * atomic rename, so a crash mid-way leaves no half kernel behind. When apt cannot resolve the
 * package (offline, no lists), the newest cached kernel is used.
 *
 * @example
 * const { kernel, modulesDir } = await fetchKernel({ cacheDir: "/var/lib/actvm/cache/kernels" });
 */
export async function fetchKernel(options: FetchKernelOptions): Promise<GuestKernel> {
  const cacheDir = resolve(options.cacheDir);
  const meta = options.metaPackage ?? "linux-image-cloud-amd64";
  const wanted = options.modules ?? GUEST_KERNEL_MODULES;
  const progress = options.onProgress ?? (() => undefined);
  await mkdir(cacheDir, { recursive: true, mode: 0o755 });

  let pkg: string;
  try {
    pkg = await resolveKernelPackage(meta);
  } catch (err) {
    const cached = await newestCachedKernel(cacheDir);
    if (cached) {
      progress(`using cached kernel ${cached.version}: ${(err as Error).message}`);
      return cached;
    }
    throw err;
  }
  const version = pkg.slice("linux-image-".length);
  const finalDir = join(cacheDir, `kernel-${version}`);
  const cached = await readCachedKernel(finalDir);
  if (cached) return cached;

  const tmp = await mkdtemp(join(cacheDir, `.kernel-${version}-`));
  try {
    progress(`downloading ${pkg}`);
    await runTool("apt-get", ["download", "-q", pkg], { cwd: tmp, subsystem: SUBSYSTEM });
    const deb = (await readdir(tmp)).find((f) => f.endsWith(".deb"));
    if (!deb) {
      throw new ActvmError("IMAGE_BUILD", `apt-get download ${pkg} produced no .deb`, {
        subsystem: SUBSYSTEM,
      });
    }
    progress(`unpacking ${deb}`);
    const unpacked = join(tmp, "unpacked");
    await runTool("dpkg", ["-x", deb, unpacked], { cwd: tmp, subsystem: SUBSYSTEM });
    const stage = join(tmp, "stage");
    await mkdir(join(stage, "modules"), { recursive: true });
    await copyFile(join(unpacked, "boot", `vmlinuz-${version}`), join(stage, "vmlinuz"));
    const modRoot = await findModuleRoot(unpacked, version);
    const kept = await keepModules(modRoot, join(stage, "modules"), wanted);
    const manifest: Manifest = { version, package: pkg, modules: kept };
    await writeFile(join(stage, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      await rename(stage, finalDir);
    } catch (err) {
      // Another actvm process finished the same kernel first; theirs is as good as ours.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
    }
    progress(`kernel ${version} ready`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const ready = await readCachedKernel(finalDir);
  if (!ready) {
    throw new ActvmError("IMAGE_BUILD", `kernel cache entry ${finalDir} is incomplete`, {
      subsystem: SUBSYSTEM,
    });
  }
  return ready;
}

/** The versioned package that `meta` depends on, as `apt-cache depends` reports it. */
async function resolveKernelPackage(meta: string): Promise<string> {
  if (!PACKAGE_NAME.test(meta)) {
    throw new ActvmError("IMAGE_BUILD", `invalid package name ${JSON.stringify(meta)}`, {
      subsystem: SUBSYSTEM,
    });
  }
  const out = await runTool("apt-cache", ["depends", meta], {
    subsystem: SUBSYSTEM,
    timeoutMs: 60_000,
  });
  for (const line of out.split("\n")) {
    const m = /^\s*Depends:\s*(linux-image-\d\S*)\s*$/.exec(line);
    if (m?.[1] && PACKAGE_NAME.test(m[1])) return m[1];
  }
  throw new ActvmError("IMAGE_BUILD", `${meta} depends on no linux-image-<version> package`, {
    subsystem: SUBSYSTEM,
    hint: "Run apt-get update, or check that the host's apt sources carry Debian's kernels.",
  });
}

async function readCachedKernel(dir: string): Promise<GuestKernel | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST), "utf8")) as Manifest;
    const kernel = join(dir, "vmlinuz");
    await access(kernel, constants.R_OK);
    return { kernel, modulesDir: join(dir, "modules"), version: manifest.version };
  } catch {
    return undefined;
  }
}

async function newestCachedKernel(cacheDir: string): Promise<GuestKernel | undefined> {
  let best: { kernel: GuestKernel; mtime: number } | undefined;
  for (const name of await readdir(cacheDir)) {
    if (!name.startsWith("kernel-")) continue;
    const kernel = await readCachedKernel(join(cacheDir, name));
    if (!kernel) continue;
    const mtime = (await stat(join(cacheDir, name))).mtimeMs;
    if (!best || mtime > best.mtime) best = { kernel, mtime };
  }
  return best?.kernel;
}

async function findModuleRoot(unpacked: string, version: string): Promise<string> {
  // Older packages ship /lib/modules, merged-/usr ones /usr/lib/modules.
  for (const base of ["lib/modules", "usr/lib/modules"]) {
    const dir = join(unpacked, base, version);
    try {
      await access(join(dir, "kernel"));
      return dir;
    } catch {
      // Try the other layout.
    }
  }
  throw new ActvmError("IMAGE_BUILD", `the kernel package has no modules for ${version}`, {
    subsystem: SUBSYSTEM,
  });
}

/** The kernel's module name for a file: `virtio-rng.ko.xz` → `virtio_rng`. */
function moduleNameOf(file: string): string {
  return file.replace(/\.ko(\.xz|\.zst|\.gz)?$/, "").replaceAll("-", "_");
}

async function listModules(
  dir: string,
  out = new Map<string, string>(),
): Promise<Map<string, string>> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await listModules(path, out);
    else if (/\.ko(\.xz|\.zst|\.gz)?$/.test(e.name)) out.set(moduleNameOf(e.name), path);
  }
  return out;
}

async function readModule(path: string): Promise<Buffer> {
  const tool = path.endsWith(".xz")
    ? "xz"
    : path.endsWith(".zst")
      ? "zstd"
      : path.endsWith(".gz")
        ? "gzip"
        : undefined;
  if (!tool) return readFile(path);
  // Decompressed next to the original (inside the download's temp dir): the guest may lack
  // the kernel's own decompressor, so the initramfs gets plain modules.
  await runTool(tool, ["-d", "-k", "-f", "-q", path], { subsystem: SUBSYSTEM });
  return readFile(path.replace(/\.(xz|zst|gz)$/, ""));
}

/**
 * Copies the wanted modules and everything they depend on (read from each module's
 * `.modinfo`, since the package ships no `modules.dep`) uncompressed into `dest`, writes a
 * `modules.dep` over them, and returns the names kept. Built-in modules need no file.
 */
async function keepModules(
  modRoot: string,
  dest: string,
  wanted: readonly string[],
): Promise<string[]> {
  const files = await listModules(join(modRoot, "kernel"));
  let builtin = new Set<string>();
  try {
    const text = await readFile(join(modRoot, "modules.builtin"), "utf8");
    builtin = new Set(text.split("\n").map((l) => moduleNameOf(l.split("/").pop() ?? "")));
  } catch {
    // No list: every wanted module must then exist as a file.
  }
  const deps = new Map<string, string[]>();
  const relPath = new Map<string, string>();
  const queue = [...wanted];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (deps.has(name) || builtin.has(name)) continue;
    const src = files.get(name);
    if (!src) {
      throw new ActvmError("IMAGE_BUILD", `the kernel has no module ${JSON.stringify(name)}`, {
        subsystem: SUBSYSTEM,
      });
    }
    const bytes = await readModule(src);
    const info = readKernelModuleInfo(bytes);
    const rel = relative(modRoot, src).replace(/\.(xz|zst|gz)$/, "");
    await mkdir(dirname(join(dest, rel)), { recursive: true });
    await writeFile(join(dest, rel), bytes);
    deps.set(name, info.depends);
    relPath.set(name, rel);
    queue.push(...info.depends);
  }
  const lines = [...deps].map(([name, ds]) => {
    const paths = ds.flatMap((d) => relPath.get(d) ?? []);
    return `${relPath.get(name)}:${paths.map((p) => ` ${p}`).join("")}`;
  });
  await writeFile(join(dest, "modules.dep"), `${lines.join("\n")}\n`);
  return [...deps.keys()];
}
