import { createHash } from "node:crypto";

/** The Debian release every image is built from (Debian 12). */
export const IMAGE_SUITE = "bookworm";

/**
 * What GitHub-hosted jobs commonly expect on top of Debian's minimal base: shells and core
 * tools, git and curl with certificates, archivers, jq, Python, a C toolchain, Node (the agent
 * and JavaScript actions run on it) and sudo.
 */
export const BASE_PACKAGES: readonly string[] = [
  "bash",
  "build-essential",
  "ca-certificates",
  "coreutils",
  "curl",
  "git",
  "gzip",
  "jq",
  "nodejs",
  "procps",
  "python3",
  "sudo",
  "tar",
  "unzip",
  "xz-utils",
  "zstd",
];

/** Debian policy §5.6.1: lower case letters, digits, `+`, `-`, `.`; at least two characters. */
export const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/** Image names become directory names and ids (`<name>-<hash>`), so they stay simple. */
export const IMAGE_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/**
 * Bumped whenever the build recipe (what is installed or configured besides the packages)
 * changes, so images built by an older recipe are not taken for cache hits.
 */
const RECIPE_VERSION = 1;

/** Everything that decides an image's contents, apart from the agent and init script. */
export interface ImageDefinition {
  name: string;
  suite: string;
  /** Debian architecture (`amd64`, `arm64`, ...). */
  arch: string;
  /** Base packages plus the user's, sorted and without duplicates. */
  packages: string[];
}

const DEBIAN_ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  ia32: "i386",
  arm: "armhf",
  ppc64: "ppc64el",
  s390x: "s390x",
  riscv64: "riscv64",
};

/** The Debian architecture name of this host, which debootstrap builds for. */
export function debianArch(nodeArch: string = process.arch): string {
  return DEBIAN_ARCH[nodeArch] ?? nodeArch;
}

/**
 * Builds the definition of an image from the base list and extra packages; order and
 * duplicates in `extra` do not matter.
 *
 * @example
 * createImageDefinition("default", ["ripgrep"]).packages.includes("ripgrep"); // true
 */
export function createImageDefinition(
  name: string,
  extra: readonly string[] = [],
  arch: string = debianArch(),
): ImageDefinition {
  const packages = [...new Set([...BASE_PACKAGES, ...extra])].sort();
  return { name, suite: IMAGE_SUITE, arch, packages };
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * The content hash of an image: its suite, architecture and packages, the agent bundle's bytes
 * and the init script. The name is not part of it (it is part of the id).
 *
 * @example
 * const hash = hashImageDefinition(def, readFileSync(agentBundlePath()), ACTVM_INIT_SCRIPT);
 */
export function hashImageDefinition(
  def: ImageDefinition,
  agentBundle: Uint8Array,
  initScript: string,
): string {
  const canonical = JSON.stringify({
    recipe: RECIPE_VERSION,
    suite: def.suite,
    arch: def.arch,
    packages: [...new Set(def.packages)].sort(),
  });
  return sha256([canonical, sha256(agentBundle), sha256(initScript)].join("\n"));
}

/** `<name>-<first 12 hex of hash>`: the image's id and directory name. */
export function imageId(name: string, hash: string): string {
  return `${name}-${hash.slice(0, 12)}`;
}
