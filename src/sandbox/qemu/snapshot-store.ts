import { randomBytes } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { HelloMessage } from "../../guest/index.ts";
import { removeTree } from "../vm-dir.ts";
import type { SnapshotKey } from "./snapshot-key.ts";

/** Name of the RAM and device state file (a QEMU migration stream) in a template directory. */
export const TEMPLATE_STATE_FILE = "state";
/** Name of the template's disk: the qcow2 overlay the template VM ran on, then kept read-only. */
export const TEMPLATE_DISK_FILE = "disk.qcow2";
const RECORD_FILE = "template.json";
// A half-built template older than this belongs to a process that died mid-build.
const ABANDONED_BUILD_MS = 60 * 60 * 1000;

/** What `template.json` says about a snapshot; the files must still match it to be used. */
export interface TemplateRecord {
  version: 1;
  key: string;
  parts: SnapshotKey["parts"];
  stateBytes: number;
  stateMtimeMs: number;
  diskBytes: number;
  diskMtimeMs: number;
  /** The agent's greeting at snapshot time; a restored agent is the same process. */
  hello: HelloMessage;
  createdAt: number;
  buildMs: number;
}

/** A usable template on disk. */
export interface VmTemplate {
  dir: string;
  state: string;
  disk: string;
  record: TemplateRecord;
}

/** What building a template in a fresh directory produced. */
export interface BuiltTemplate {
  hello: HelloMessage;
}

function templateOf(dir: string, record: TemplateRecord): VmTemplate {
  return {
    dir,
    state: join(dir, TEMPLATE_STATE_FILE),
    disk: join(dir, TEMPLATE_DISK_FILE),
    record,
  };
}

async function readRecord(dir: string): Promise<TemplateRecord | null> {
  try {
    const r = JSON.parse(await readFile(join(dir, RECORD_FILE), "utf8")) as TemplateRecord;
    return r && r.version === 1 && typeof r.key === "string" ? r : null;
  } catch {
    return null;
  }
}

/**
 * Returns the template stored for `key`, or null. One whose record is missing or unreadable,
 * whose key differs, or whose files changed size or mtime since it was written is deleted, so
 * the caller rebuilds it rather than restoring from a state that no longer matches its disk.
 */
export async function loadTemplate(
  snapshotsDir: string,
  key: SnapshotKey,
): Promise<VmTemplate | null> {
  const dir = join(snapshotsDir, key.hash);
  const record = await readRecord(dir);
  if (
    record &&
    record.key === key.hash &&
    JSON.stringify(record.parts) === JSON.stringify(key.parts)
  ) {
    try {
      const [s, d] = await Promise.all([
        stat(join(dir, TEMPLATE_STATE_FILE)),
        stat(join(dir, TEMPLATE_DISK_FILE)),
      ]);
      if (
        s.size === record.stateBytes &&
        Math.trunc(s.mtimeMs) === record.stateMtimeMs &&
        d.size === record.diskBytes &&
        Math.trunc(d.mtimeMs) === record.diskMtimeMs
      ) {
        return templateOf(dir, record);
      }
    } catch {
      // A missing file makes the template unusable, as below.
    }
  }
  await discardTemplateDir(dir);
  return null;
}

/**
 * Builds a template for `key` in a temporary directory beside the final one and renames it into
 * place, so readers see a complete template or none. `build` must leave the state file and the
 * disk in the directory it is given. When another process finished the same template first,
 * that one is kept and this build discarded.
 */
export async function saveTemplate(
  snapshotsDir: string,
  key: SnapshotKey,
  build: (dir: string) => Promise<BuiltTemplate>,
): Promise<VmTemplate> {
  await mkdir(snapshotsDir, { recursive: true, mode: 0o700 });
  await sweepAbandonedBuilds(snapshotsDir);
  const tmp = join(snapshotsDir, `.build-${key.hash}-${randomBytes(4).toString("hex")}`);
  await mkdir(tmp, { mode: 0o700 });
  try {
    const started = Date.now();
    const built = await build(tmp);
    const disk = join(tmp, TEMPLATE_DISK_FILE);
    const state = join(tmp, TEMPLATE_STATE_FILE);
    // Restored VMs only read these; the mode keeps a stray writer (or QEMU misconfigured
    // without a per-VM overlay) from corrupting every clone at once.
    await chmod(disk, 0o444);
    await chmod(state, 0o444);
    const [s, d] = await Promise.all([stat(state), stat(disk)]);
    const record: TemplateRecord = {
      version: 1,
      key: key.hash,
      parts: key.parts,
      stateBytes: s.size,
      stateMtimeMs: Math.trunc(s.mtimeMs),
      diskBytes: d.size,
      diskMtimeMs: Math.trunc(d.mtimeMs),
      hello: built.hello,
      createdAt: Date.now(),
      buildMs: Date.now() - started,
    };
    await writeFile(join(tmp, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`, {
      mode: 0o600,
    });
    const dir = join(snapshotsDir, key.hash);
    // Another process may have finished the same template meanwhile, and its VMs may be
    // restoring from it right now: keep it rather than swap files under them.
    const existing = await loadTemplate(snapshotsDir, key);
    if (existing) {
      await removeTree(tmp);
      return existing;
    }
    try {
      await rename(tmp, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      await removeTree(tmp);
      const theirs = await loadTemplate(snapshotsDir, key);
      if (theirs) return theirs;
      throw err;
    }
    return templateOf(dir, record);
  } catch (err) {
    await removeTree(tmp);
    throw err;
  }
}

/** Deletes a template (e.g. one QEMU could not restore); VMs already running from it go on. */
export async function discardTemplate(template: VmTemplate): Promise<void> {
  await discardTemplateDir(template.dir);
}

async function discardTemplateDir(dir: string): Promise<void> {
  // Renamed aside first: a concurrent reader sees the template whole or not at all.
  const aside = `${dir}.stale-${randomBytes(4).toString("hex")}`;
  try {
    await rename(dir, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  await removeTree(aside);
}

async function sweepAbandonedBuilds(snapshotsDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(snapshotsDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(".build-") && !name.includes(".stale-")) continue;
    const path = join(snapshotsDir, name);
    try {
      const info = await stat(path);
      if (Date.now() - info.mtimeMs > ABANDONED_BUILD_MS) await removeTree(path);
    } catch {
      // Gone already, or removed by another process.
    }
  }
}
