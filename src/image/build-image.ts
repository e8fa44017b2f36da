import { constants } from "node:fs";
import {
  access,
  chmod,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { agentBundlePath } from "../guest/index.ts";
import { formatDiagnostic, hasErrors } from "../shared/diagnostic.ts";
import { ActvmError, isActvmError } from "../shared/errors.ts";
import {
  BUILD_OWNER_FILE,
  buildProcess,
  mountsUnder,
  removeBuildDir,
  unmountUnder,
  writeBuildOwner,
  type BuildOwner,
} from "./build-dir.ts";
import { configureRootfs } from "./configure-rootfs.ts";
import { ext4Geometry, measureTree } from "./ext4-geometry.ts";
import { findAptMirror } from "./find-apt-mirror.ts";
import {
  IMAGE_NAME,
  IMAGE_SUITE,
  PACKAGE_NAME,
  createImageDefinition,
  hashImageDefinition,
  imageId,
  type ImageDefinition,
} from "./image-definition.ts";
import { loadImageFile } from "./image-file.ts";
import type { ImageInfo } from "./image-info.ts";
import {
  IMAGE_RECORD_FILE,
  readImageRecord,
  toImageInfo,
  type ImageRecord,
} from "./image-record.ts";
import { ACTVM_INIT_SCRIPT } from "./init-script.ts";
import { throttleProgress } from "./progress-throttle.ts";
import { runBuildStep } from "./run-build-step.ts";
import { sweepImageTemp } from "./sweep-image-temp.ts";

/** Options of {@link buildImage}. */
export interface BuildImageOptions {
  /** Where images live: `<imagesDir>/<id>/`. */
  imagesDir: string;
  /** Default: the image file's `name`, else "default". */
  name?: string;
  /** Extra Debian packages. */
  include?: readonly string[];
  /** A YAML or JSON file with `name` and `include`. */
  imageFile?: string;
  /** Progress lines ("debootstrap: I: Retrieving ...", "mkfs.ext4 ..."), throttled. */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
  /** The apt configuration to take the mirror from. Default /etc/apt. */
  aptDir?: string;
  /** The agent bundle to install. Default: {@link agentBundlePath}. */
  agentBundle?: string;
}

/** What {@link buildImage} produced. */
export interface BuildImageResult {
  image: ImageInfo;
  /** True when an image with the same definition already existed and nothing was built. */
  cached: boolean;
}

const TOOL_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** Finds a tool in the system directories, since a non-login root shell may lack sbin in PATH. */
async function findTool(name: string): Promise<string | undefined> {
  for (const dir of TOOL_DIRS) {
    const p = path.join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

function usage(detail: string, hint: string): ActvmError {
  return new ActvmError("USAGE", detail, { subsystem: "image", hint });
}

function cancelled(step: string): ActvmError {
  return new ActvmError("CANCELLED", `image build (${step})`, { subsystem: "image" });
}

/** What a build of some options would produce, decided before anything is built. */
export interface ImagePlan {
  name: string;
  definition: ImageDefinition;
  hash: string;
  id: string;
  agentBundle: Buffer;
}

/**
 * Resolves the name, definition, content hash and id that {@link buildImage} would use, after
 * validating the image file, package names and name; builds nothing and needs no root.
 *
 * @example
 * const { id } = await planImage({ include: ["ripgrep"] });
 */
export async function planImage(
  options: Pick<BuildImageOptions, "name" | "include" | "imageFile" | "agentBundle">,
): Promise<ImagePlan> {
  let fileName: string | undefined;
  const extra: string[] = [];
  if (options.imageFile !== undefined) {
    const parsed = await loadImageFile(options.imageFile);
    if (hasErrors(parsed.diagnostics) || !parsed.value)
      throw usage(
        parsed.diagnostics.map(formatDiagnostic).join("\n"),
        "fix the image file; it holds `name` and `include` (Debian package names)",
      );
    fileName = parsed.value.name;
    extra.push(...(parsed.value.include ?? []));
  }
  for (const pkg of options.include ?? []) {
    if (!PACKAGE_NAME.test(pkg))
      throw usage(`'${pkg}' is not a Debian package name`, "e.g. --include ripgrep,shellcheck");
    extra.push(pkg);
  }
  const name = options.name ?? fileName ?? "default";
  if (!IMAGE_NAME.test(name))
    throw usage(
      `'${name}' is not a valid image name`,
      "use 1-40 lower-case letters, digits, '-' or '_'",
    );

  const definition = createImageDefinition(name, extra);
  const agentBundle = await readFile(options.agentBundle ?? agentBundlePath());
  const hash = hashImageDefinition(definition, agentBundle, ACTVM_INIT_SCRIPT);
  return { name, definition, hash, id: imageId(name, hash), agentBundle };
}

async function discardUnfinished(dir: string): Promise<void> {
  try {
    await stat(dir);
  } catch {
    return;
  }
  if (await readImageRecord(dir)) return;
  const aside = path.join(path.dirname(dir), `.rm-${path.basename(dir)}-${process.pid}`);
  await rename(dir, aside);
  await removeBuildDir(aside);
}

/**
 * Builds a Debian 12 guest image (debootstrap minbase + the base packages + `include` + the image
 * file's packages, the actvm agent and init) as an unpacked tree and a raw ext4 file, or returns
 * the existing image when one with the same content hash was built before. The build happens in
 * `<imagesDir>/.tmp-*` and is renamed into place only when complete; on failure or abort its
 * processes are killed, its mounts undone and the directory removed. Needs root.
 *
 * @example
 * const { image, cached } = await buildImage({ imagesDir, include: ["ripgrep"], onProgress: console.error });
 */
export async function buildImage(options: BuildImageOptions): Promise<BuildImageResult> {
  const started = Date.now();
  const imagesDir = path.resolve(options.imagesDir);
  const { name, definition, hash, id, agentBundle: agentBytes } = await planImage(options);
  const finalDir = path.join(imagesDir, id);
  const existing = await readImageRecord(finalDir);
  if (existing) return { image: toImageInfo(finalDir, existing), cached: true };

  if (process.getuid?.() !== 0)
    throw new ActvmError("NEEDS_ROOT", "building an image runs debootstrap, which needs root", {
      subsystem: "image",
      hint: "run it as root: sudo -E actvm image build (-E keeps ACTVM_HOME, so the image lands where your runs look for it)",
    });
  const debootstrap = await findTool("debootstrap");
  const mkfs = await findTool("mkfs.ext4");
  if (!debootstrap || !mkfs)
    throw new ActvmError(
      "IMAGE_BUILD",
      `${[!debootstrap && "debootstrap", !mkfs && "mkfs.ext4"].filter(Boolean).join(" and ")} not installed`,
      { subsystem: "image", hint: "apt-get install debootstrap e2fsprogs" },
    );
  const mirror = await findAptMirror(IMAGE_SUITE, options.aptDir);

  await mkdir(imagesDir, { recursive: true, mode: 0o755 });
  // Build under the canonical path: mounts and process roots in /proc are reported that way.
  const buildBase = await realpath(imagesDir);
  await sweepImageTemp(buildBase);
  // A directory with the image's id but no valid record is debris (say, a record removed by
  // hand); clear it now rather than fail at the final rename after a whole build.
  await discardUnfinished(path.join(buildBase, id));
  const debs = path.join(buildBase, ".debs");
  await mkdir(debs, { recursive: true, mode: 0o755 });
  const tmp = await mkdtemp(path.join(buildBase, ".tmp-"));
  const owner: BuildOwner = { owner: buildProcess(process.pid), groups: [] };
  const signal = options.signal;
  const progress = options.onProgress;
  const raw = throttleProgress(progress);
  // Names the step in errors that are not already build-step errors (file system, chroot).
  let step = "prepare";
  try {
    await writeBuildOwner(tmp, owner);
    const rootfs = path.join(tmp, "rootfs");
    const recordGroup = (pid: number): void => {
      owner.groups.push(buildProcess(pid));
      // Best effort: a sweep after a crash uses it, the build itself does not.
      writeBuildOwner(tmp, owner).catch(() => undefined);
    };

    progress?.(
      `debootstrap: ${IMAGE_SUITE} ${definition.arch} from ${mirror.uri} (${mirror.origin}), ${definition.packages.length} packages`,
    );
    await runBuildStep({
      step: "debootstrap",
      command: debootstrap,
      args: [
        "--variant=minbase",
        `--arch=${definition.arch}`,
        "--components=main",
        `--include=${definition.packages.join(",")}`,
        `--cache-dir=${debs}`,
        ...(mirror.signedBy ? [`--keyring=${mirror.signedBy}`] : []),
        IMAGE_SUITE,
        rootfs,
        mirror.uri,
      ],
      signal,
      onSpawn: recordGroup,
      onLine: (line) => raw(`debootstrap: ${line}`),
    });
    // mkfs -d copies whatever is mounted in the tree; debootstrap must have left nothing.
    if (mountsUnder(rootfs).length > 0) await unmountUnder(rootfs);
    if (signal?.aborted) throw cancelled("configure");

    step = "configure";
    progress?.("configure: agent, init, runner user, apt cleanup");
    await configureRootfs(rootfs, agentBytes);
    if (signal?.aborted) throw cancelled("configure");

    step = "measure";
    const tree = await measureTree(rootfs);
    const geometry = ext4Geometry(tree);
    const ext4 = path.join(tmp, "rootfs.ext4");
    progress?.(
      `mkfs.ext4: ${geometry.sizeMiB} MiB, ${geometry.inodes} inodes for ${Math.round(tree.bytes / 1024 / 1024)} MiB in ${tree.inodes} files`,
    );
    await runBuildStep({
      step: "mkfs.ext4",
      command: mkfs,
      args: [
        "-q",
        "-d",
        rootfs,
        "-L",
        "actvm-root",
        "-N",
        String(geometry.inodes),
        "-m",
        "0",
        ext4,
        `${geometry.sizeMiB}M`,
      ],
      signal,
      onSpawn: recordGroup,
      onLine: (line) => raw(`mkfs.ext4: ${line}`),
    });

    step = "finish";
    const record: ImageRecord = {
      version: 1,
      name,
      id,
      hash,
      packages: definition.packages,
      sizeBytes: (await stat(ext4)).size,
      builtAt: new Date().toISOString(),
      buildMs: Date.now() - started,
      suite: definition.suite,
      arch: definition.arch,
      mirror: mirror.uri,
    };
    await writeFile(path.join(tmp, IMAGE_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`, {
      mode: 0o644,
    });
    await rm(path.join(tmp, BUILD_OWNER_FILE), { force: true });
    // mkdtemp made it 0700; sandboxes running as other users read the tree.
    await chmod(tmp, 0o755);
    if (signal?.aborted) throw cancelled("finish");
    try {
      await rename(tmp, finalDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      // Another build of the same definition finished first; its image is as good as ours.
      await removeBuildDir(tmp);
      const other = await readImageRecord(finalDir);
      if (other) return { image: toImageInfo(finalDir, other), cached: true };
      throw new ActvmError("IMAGE_BUILD", `${finalDir} exists but is not a finished image`, {
        subsystem: "image",
        hint: `remove ${finalDir} and build again`,
      });
    }
    progress?.(`done: ${id} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { image: toImageInfo(finalDir, record), cached: false };
  } catch (err) {
    try {
      await removeBuildDir(tmp);
    } catch (cleanupErr) {
      throw new ActvmError(
        "IMAGE_BUILD",
        `${(err as Error).message}; removing ${tmp} also failed: ${(cleanupErr as Error).message}`,
        { subsystem: "image", cause: err, hint: `remove ${tmp} by hand` },
      );
    }
    if (isActvmError(err)) throw err;
    throw new ActvmError("IMAGE_BUILD", `${step}: ${(err as Error).message ?? String(err)}`, {
      subsystem: "image",
      cause: err,
    });
  }
}
