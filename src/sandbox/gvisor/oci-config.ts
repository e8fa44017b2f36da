import { AGENT_PATH } from "../../image/index.ts";
import { BWRAP_GUEST_PATHS } from "../bwrap/bwrap-args.ts";
import type { GuestPaths } from "../types.ts";

/** The user the job runs as inside gVisor. */
export interface GuestUser {
  uid: number;
  gid: number;
}

/**
 * Default job user: the image's `runner` (uid/gid 1001), as on GitHub's hosted runners and in
 * actvm's microVMs, so tools that behave differently under root (npm, pip, ssh) behave as
 * there. runsc 20221219 (Debian 12) does not honour setuid bits, so `sudo` cannot raise it;
 * jobs that need root choose uid 0 (the `user` option of the gVisor driver).
 */
export const RUNNER_USER: GuestUser = Object.freeze({ uid: 1001, gid: 1001 });

// Docker's default set: enough for package managers run by a root job, nothing that reaches
// around the Sentry (no SYS_ADMIN, SYS_PTRACE, NET_ADMIN).
const ROOT_CAPABILITIES = [
  "CAP_AUDIT_WRITE",
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_MKNOD",
  "CAP_NET_BIND_SERVICE",
  "CAP_SETFCAP",
  "CAP_SETGID",
  "CAP_SETPCAP",
  "CAP_SETUID",
  "CAP_SYS_CHROOT",
];

/** Inputs of {@link buildOciConfig}; host paths are absolute. */
export interface OciConfigInput {
  /** The image's unpacked root tree, never written: gVisor overlays it per sandbox. */
  rootfsDir: string;
  /** The VM's host directories, bound at the guest paths. */
  hostPaths: GuestPaths;
  network: boolean;
  user: GuestUser;
  /** The agent's complete environment. */
  env: Record<string, string>;
  /** Host file bound read-only at /etc/resolv.conf (network only), so DNS works as on the host. */
  resolvConf?: string;
}

/** The subset of an OCI runtime `config.json` that actvm writes. */
export interface OciConfig {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<"bounding" | "effective" | "permitted" | "inheritable", string[]>;
    noNewPrivileges: boolean;
    rlimits: { type: string; hard: number; soft: number }[];
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: { namespaces: { type: string }[] };
}

/**
 * Builds the OCI runtime spec for one gVisor sandbox: the agent as the only process, the image
 * as root (writable only through runsc's per-sandbox overlay), the VM's directories bound at
 * {@link BWRAP_GUEST_PATHS}, fresh pid/ipc/uts/mount namespaces and, unless the job asked for
 * network, a network namespace of its own.
 */
export function buildOciConfig(input: OciConfigInput): OciConfig {
  const g = BWRAP_GUEST_PATHS;
  const caps = input.user.uid === 0 ? ROOT_CAPABILITIES : [];
  const bind = (source: string, destination: string, ro = false) => ({
    destination,
    type: "bind",
    source,
    options: ["rbind", ro ? "ro" : "rw", "nosuid", "nodev"],
  });
  const mounts: OciConfig["mounts"] = [
    { destination: "/proc", type: "proc", source: "proc" },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "mode=755"] },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777"],
    },
    {
      destination: "/sys",
      type: "sysfs",
      source: "sysfs",
      options: ["nosuid", "noexec", "nodev", "ro"],
    },
    // Home first: the work directories below are bound on top of it.
    bind(input.hostPaths.home, g.home),
    bind(input.hostPaths.workspace, g.workspace),
    bind(input.hostPaths.temp, g.temp),
    bind(input.hostPaths.actions, g.actions),
    bind(input.hostPaths.toolCache, g.toolCache),
  ];
  if (input.network && input.resolvConf) {
    mounts.push(bind(input.resolvConf, "/etc/resolv.conf", true));
  }
  // With network, runsc passes sockets through to the host stack (`--network=host`), which
  // needs the host's network namespace.
  const namespaces = ["pid", "ipc", "uts", "mount", ...(input.network ? [] : ["network"])];
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: [] },
      args: ["node", AGENT_PATH],
      env: Object.entries(input.env).map(([k, v]) => `${k}=${v}`),
      cwd: g.workspace,
      capabilities: {
        bounding: [...caps],
        effective: [...caps],
        permitted: [...caps],
        inheritable: [],
      },
      // Nothing a non-root job runs may gain privileges, whatever the image's setuid files.
      noNewPrivileges: input.user.uid !== 0,
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 65536, soft: 65536 }],
    },
    root: { path: input.rootfsDir, readonly: false },
    hostname: "actvm",
    mounts,
    linux: { namespaces: namespaces.map((type) => ({ type })) },
  };
}
