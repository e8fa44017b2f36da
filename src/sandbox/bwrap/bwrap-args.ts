import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import type { GuestPaths } from "../types.ts";

/** Where a `bwrap` sandbox's directories appear inside it; modelled on GitHub's hosted runners. */
export const BWRAP_GUEST_PATHS: GuestPaths = Object.freeze({
  home: "/home/runner",
  workspace: "/home/runner/work/workspace",
  temp: "/home/runner/work/_temp",
  actions: "/home/runner/work/_actions",
  toolCache: "/home/runner/work/_tool",
});

/** Read-only location of the agent bundle and the Node binary inside the sandbox. */
export const GUEST_AGENT_DIR = "/run/actvm";

/** Host directories replaced by empty tmpfs mounts, so a job cannot read users' or services' data. */
export const HIDDEN_HOST_DIRS = ["/home", "/root", "/tmp", "/run", "/var/tmp"] as const;

/** Inputs of {@link buildBwrapArgs}; every path is an absolute host path. */
export interface BwrapArgsInput {
  /** The VM's host directory tree. */
  hostPaths: GuestPaths;
  network: boolean;
  /** actvm's state directory (see {@link stateDirToHide}), hidden from the guest; null: none. */
  stateDir: string | null;
  agentBundle: string;
  nodePath: string;
  /** Drop every capability in the sandbox; bwrap keeps them by default when started as root. */
  dropCapabilities: boolean;
  /**
   * Run the agent as this unprivileged host user (for a root host). bwrap then skips the user
   * namespace, so the job's processes are really that uid on the host and cannot read root's
   * files through the read-only root; `setpriv` does the switch after the mounts are made.
   */
  runAs?: { uid: number; gid: number; setpriv: string };
  /** The agent's complete environment. */
  env: Record<string, string>;
  /** Real file behind /etc/resolv.conf when it points into a hidden directory (network only). */
  resolvConf?: { target: string; source: string };
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/**
 * The directory to hide for actvm's own state: the base directory's parent, unless that is a
 * top-level system directory (hiding `/var` would break the guest) or already hidden.
 */
export function stateDirToHide(baseDir: string): string | null {
  const base = resolve(baseDir);
  const parent = dirname(base);
  const candidate = parent.split("/").filter(Boolean).length >= 2 ? parent : base;
  if (candidate === "/") return null;
  if (HIDDEN_HOST_DIRS.some((h) => isInside(candidate, h))) return null;
  return candidate;
}

/**
 * Builds the bwrap command line for one sandbox: every namespace unshared (network only on
 * request; the user namespace not with `runAs`), the host root read-only with sensitive
 * directories hidden, the VM's directories bound writable at {@link BWRAP_GUEST_PATHS}, and the
 * agent as the sandbox's process.
 */
export function buildBwrapArgs(input: BwrapArgsInput): string[] {
  const g = BWRAP_GUEST_PATHS;
  const namespaces = input.runAs
    ? [
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        ...(input.network ? [] : ["--unshare-net"]),
      ]
    : ["--unshare-all", ...(input.network ? ["--share-net"] : [])];
  const args: string[] = [
    ...namespaces,
    "--die-with-parent",
    "--new-session",
    "--hostname",
    "actvm",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--perms",
    "1777",
    "--tmpfs",
    "/dev/shm",
    "--proc",
    "/proc",
  ];
  for (const dir of HIDDEN_HOST_DIRS) {
    args.push(...(dir === "/tmp" || dir === "/var/tmp" ? ["--perms", "1777"] : []));
    args.push("--tmpfs", dir);
  }
  if (input.stateDir) args.push("--tmpfs", input.stateDir);
  // Explicit mode: bwrap would create it 0700, which an unprivileged agent cannot enter.
  args.push("--perms", "0755", "--dir", GUEST_AGENT_DIR);
  args.push(
    "--bind",
    input.hostPaths.home,
    g.home,
    "--bind",
    input.hostPaths.workspace,
    g.workspace,
    "--bind",
    input.hostPaths.temp,
    g.temp,
    "--bind",
    input.hostPaths.actions,
    g.actions,
    "--bind",
    input.hostPaths.toolCache,
    g.toolCache,
    "--ro-bind",
    input.agentBundle,
    `${GUEST_AGENT_DIR}/agent.cjs`,
    "--ro-bind",
    input.nodePath,
    `${GUEST_AGENT_DIR}/node`,
  );
  if (input.network && input.resolvConf) {
    args.push("--ro-bind", input.resolvConf.source, input.resolvConf.target);
  }
  if (input.runAs) {
    // Only what setpriv needs to switch users; it then clears every set, bounding included.
    args.push("--cap-drop", "ALL");
    for (const cap of ["CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"]) args.push("--cap-add", cap);
  } else if (input.dropCapabilities) {
    args.push("--cap-drop", "ALL");
  }
  args.push("--chdir", g.workspace, "--clearenv");
  for (const [k, v] of Object.entries(input.env)) args.push("--setenv", k, v);
  args.push("--");
  if (input.runAs) {
    const { uid, gid, setpriv } = input.runAs;
    args.push(
      setpriv,
      `--reuid=${uid}`,
      `--regid=${gid}`,
      "--clear-groups",
      "--inh-caps=-all",
      "--bounding-set=-all",
      "--no-new-privs",
      "--",
    );
  }
  args.push(`${GUEST_AGENT_DIR}/node`, `${GUEST_AGENT_DIR}/agent.cjs`);
  return args;
}
