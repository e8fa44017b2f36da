import { execFile } from "node:child_process";
import {
  lstat,
  lchown,
  mkdir,
  readFile,
  readdir,
  readlink,
  rm,
  writeFile,
  chmod,
} from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { ActvmError } from "../shared/errors.ts";
import { ACTVM_INIT_SCRIPT, AGENT_PATH, INIT_PATH } from "./init-script.ts";

const run = promisify(execFile);

/** The unprivileged user jobs run as, with GitHub's hosted-runner uid. */
export const RUNNER_USER = { name: "runner", uid: 1001 } as const;

/** The runner's work directories, as on GitHub-hosted runners. */
export const RUNNER_WORK_DIRS = ["workspace", "_temp", "_actions", "_tool"] as const;

/**
 * Resolves a guest path to a host path under `root`, following symlinks as the guest would
 * see them (absolute links stay inside `root`), so writing into the tree never escapes it.
 */
async function hostPath(root: string, guestPath: string): Promise<string> {
  const parts = guestPath.split("/").filter((p) => p !== "" && p !== ".");
  let resolved: string[] = [];
  for (let hops = 0, i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    let link: string | undefined;
    try {
      if ((await lstat(candidate)).isSymbolicLink()) link = await readlink(candidate);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (link === undefined) {
      resolved.push(part);
      continue;
    }
    if (++hops > 40) throw new Error(`too many symbolic links in ${guestPath}`);
    const rest = parts.slice(i + 1);
    const target = link.split("/").filter((p) => p !== "" && p !== ".");
    if (link.startsWith("/")) resolved = [];
    parts.splice(0, parts.length, ...resolved, ...target, ...rest);
    resolved = [];
    i = -1;
  }
  return path.join(root, ...resolved);
}

async function writeGuestFile(
  root: string,
  guestPath: string,
  content: string | Uint8Array,
  mode: number,
): Promise<void> {
  const target = await hostPath(root, guestPath);
  await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
  await rm(target, { force: true });
  await writeFile(target, content, { mode });
  // writeFile's mode passes through the umask; the image must not depend on ours.
  await chmod(target, mode);
}

async function chroot(root: string, step: string, args: string[]): Promise<void> {
  try {
    await run("chroot", [root, ...args], {
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        LC_ALL: "C",
        DEBIAN_FRONTEND: "noninteractive",
      },
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new ActvmError(
      "IMAGE_BUILD",
      `${step} (chroot ${args.join(" ")}) failed: ${(e.stderr ?? "").trim() || e.message}`,
      { subsystem: "image", cause: err },
    );
  }
}

/** uid and gid of `user` in the tree's /etc/passwd. */
async function guestIds(root: string, user: string): Promise<{ uid: number; gid: number }> {
  const passwd = await readFile(await hostPath(root, "/etc/passwd"), "utf8");
  for (const line of passwd.split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name === user) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new ActvmError("IMAGE_BUILD", `user ${user} is missing from the image's /etc/passwd`, {
    subsystem: "image",
  });
}

/**
 * Turns a fresh debootstrap tree into an actvm guest: installs the agent and the init script,
 * creates the `runner` user (uid 1001, passwordless sudo) with its work directories, leaves
 * no DNS configuration (network is off by default), empties the machine-id and drops apt's
 * caches.
 */
export async function configureRootfs(root: string, agentBundle: Uint8Array): Promise<void> {
  await writeGuestFile(root, AGENT_PATH, agentBundle, 0o644);
  await writeGuestFile(root, INIT_PATH, ACTVM_INIT_SCRIPT, 0o755);

  const { name, uid } = RUNNER_USER;
  await chroot(root, "creating the runner user", [
    "useradd",
    "--uid",
    String(uid),
    "--user-group",
    "--create-home",
    "--shell",
    "/bin/bash",
    "--comment",
    "actvm runner",
    name,
  ]);
  await writeGuestFile(root, `/etc/sudoers.d/${name}`, `${name} ALL=(ALL) NOPASSWD:ALL\n`, 0o440);
  const ids = await guestIds(root, name);
  const home = `/home/${name}`;
  for (const dir of ["work", ...RUNNER_WORK_DIRS.map((d) => `work/${d}`)]) {
    const target = await hostPath(root, `${home}/${dir}`);
    await mkdir(target, { recursive: true, mode: 0o755 });
    await lchown(target, ids.uid, ids.gid);
  }

  // debootstrap copies the host's resolver configuration in; a guest without network has none.
  await writeGuestFile(root, "/etc/resolv.conf", "", 0o644);
  await writeGuestFile(root, "/etc/hostname", "actvm\n", 0o644);
  await writeGuestFile(
    root,
    "/etc/hosts",
    "127.0.0.1\tlocalhost\n127.0.1.1\tactvm\n::1\t\tlocalhost ip6-localhost ip6-loopback\n",
    0o644,
  );
  // Every boot writes its own; an id baked into the image would be shared by all VMs.
  await writeGuestFile(root, "/etc/machine-id", "", 0o444);
  await rm(await hostPath(root, "/var/lib/dbus/machine-id"), { force: true });

  await chroot(root, "cleaning apt's cache", ["apt-get", "clean"]);
  const lists = await hostPath(root, "/var/lib/apt/lists");
  for (const entry of await readdir(lists).catch(() => [] as string[]))
    if (entry !== "partial" && entry !== "lock")
      await rm(path.join(lists, entry), { recursive: true, force: true });
}
