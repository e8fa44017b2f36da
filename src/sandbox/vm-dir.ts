import { randomBytes } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { BackendName, GuestPaths } from "./types.ts";
import { processRef, type ProcessRef } from "./process-control.ts";

/** Name of the file in every VM directory that says which actvm process owns it. */
export const OWNER_FILE = "owner.json";

/** Contents of `owner.json`: enough for a later actvm process to decide the VM is orphaned. */
export interface OwnerRecord {
  version: 1;
  vmId: string;
  backend: BackendName;
  label: string;
  /** The actvm process that allocated the VM. */
  owner: ProcessRef;
  createdAt: number;
  /** Host processes that belong to the VM (agent, bwrap), killed by `sweepLeftovers`. */
  processes: ProcessRef[];
}

/** A VM's throwaway directory tree on the host. */
export interface VmDir {
  readonly id: string;
  /** `<baseDir>/<id>`. */
  readonly dir: string;
  /** Host paths of the tree's sub-directories. */
  readonly hostPaths: GuestPaths;
  /** Adds a host process to `owner.json` so a crash of this process does not leak it. */
  recordProcess(ref: ProcessRef): Promise<void>;
  /** Removes the whole tree; succeeds when it is already gone. */
  remove(): Promise<void>;
}

/**
 * Creates `<baseDir>/<label>-<random>/{workspace,temp,tool-cache,actions,home}` with an
 * `owner.json` written before anything else can run in it.
 */
export async function createVmDir(
  baseDir: string,
  backend: BackendName,
  label: string,
): Promise<VmDir> {
  baseDir = resolve(baseDir);
  await mkdir(baseDir, { recursive: true, mode: 0o700 });
  const id = `${label}-${randomBytes(5).toString("hex")}`;
  const dir = join(baseDir, id);
  // Not recursive: an existing directory with this id must fail instead of being shared.
  await mkdir(dir, { mode: 0o700 });
  const record: OwnerRecord = {
    version: 1,
    vmId: id,
    backend,
    label,
    owner: processRef(process.pid),
    createdAt: Date.now(),
    processes: [],
  };
  const save = async (): Promise<void> => {
    const tmp = join(dir, `.${OWNER_FILE}.${randomBytes(4).toString("hex")}`);
    await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, join(dir, OWNER_FILE));
  };
  try {
    await save();
    const hostPaths: GuestPaths = {
      workspace: join(dir, "workspace"),
      temp: join(dir, "temp"),
      toolCache: join(dir, "tool-cache"),
      actions: join(dir, "actions"),
      home: join(dir, "home"),
    };
    for (const p of Object.values(hostPaths)) await mkdir(p, { mode: 0o755 });
    return {
      id,
      dir,
      hostPaths,
      async recordProcess(ref) {
        record.processes.push(ref);
        await save();
      },
      remove: () => removeTree(dir),
    };
  } catch (err) {
    await removeTree(dir);
    throw err;
  }
}

/** Reads a VM directory's `owner.json`; null when it is missing or not a valid record. */
export async function readOwnerRecord(dir: string): Promise<OwnerRecord | null> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, OWNER_FILE), "utf8")) as unknown;
    if (!isOwnerRecord(parsed)) return null;
    return parsed;
  } catch {
    return null;
  }
}

function isRef(v: unknown): v is ProcessRef {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    Number.isInteger(r.pid) &&
    (r.pid as number) > 0 &&
    (r.startTime === null || typeof r.startTime === "number")
  );
}

function isOwnerRecord(v: unknown): v is OwnerRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    r.version === 1 &&
    typeof r.vmId === "string" &&
    isRef(r.owner) &&
    Array.isArray(r.processes) &&
    r.processes.every(isRef)
  );
}

/**
 * Deletes a directory tree, also when a job left read-only directories in it (which would
 * make a plain recursive delete fail for a non-root owner).
 */
export async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM") throw err;
  }
  await makeWritable(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

async function makeWritable(dir: string): Promise<void> {
  try {
    await chmod(dir, 0o700);
  } catch {
    return;
  }
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.isDirectory()) await makeWritable(join(dir, e.name));
  }
}
