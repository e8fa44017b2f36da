import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { ActvmError } from "../shared/errors.ts";
import { parseDeb822Sources, parseOneLineSources, type AptSource } from "./apt-sources.ts";

/** The mirror debootstrap should fetch from, as the host's apt configuration names it. */
export interface AptMirror {
  uri: string;
  /** Keyring to verify the Release file with, when the source names one. */
  signedBy?: string;
  /** `file:line` of the source it came from. */
  origin: string;
}

const USABLE_SCHEME = /^(https?|file):/i;

/** Suites that carry only a slice of the archive (security fixes, updates, backports). */
function isPartialSuite(suite: string): boolean {
  return /[-/](security|updates|backports|proposed-updates)$/i.test(suite);
}

/**
 * Picks the mirror for `suite` from parsed apt sources: a binary (`deb`) source listing that
 * exact suite wins; otherwise the first binary source of a full suite. Security, updates and
 * backports suites are never chosen, since debootstrap needs the whole archive.
 *
 * @example
 * pickAptMirror(parseDeb822Sources(text, "debian.sources"), "bookworm")?.uri;
 */
export function pickAptMirror(sources: readonly AptSource[], suite: string): AptMirror | undefined {
  const candidates = sources.filter(
    (s) =>
      s.type === "deb" && USABLE_SCHEME.test(s.uri) && s.suites.some((x) => !isPartialSuite(x)),
  );
  const chosen = candidates.find((s) => s.suites.includes(suite)) ?? candidates[0];
  if (!chosen) return undefined;
  return {
    uri: chosen.uri,
    ...(chosen.signedBy ? { signedBy: chosen.signedBy } : {}),
    origin: chosen.origin,
  };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR") return undefined;
    throw err;
  }
}

/**
 * Every source in the apt configuration under `aptDir` (normally `/etc/apt`): `sources.list`,
 * then `sources.list.d/*.list` and `*.sources` in name order, as apt reads them.
 */
export async function readAptSources(aptDir = "/etc/apt"): Promise<AptSource[]> {
  const out: AptSource[] = [];
  const main = path.join(aptDir, "sources.list");
  const text = await readIfExists(main);
  if (text !== undefined) out.push(...parseOneLineSources(text, main));
  const dir = path.join(aptDir, "sources.list.d");
  let names: string[] = [];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith(".list")) {
      const t = await readIfExists(file);
      if (t !== undefined) out.push(...parseOneLineSources(t, file));
    } else if (name.endsWith(".sources")) {
      const t = await readIfExists(file);
      if (t !== undefined) out.push(...parseDeb822Sources(t, file));
    }
  }
  return out;
}

/**
 * Finds the Debian mirror for `suite` in the host's apt configuration, or throws an
 * `IMAGE_BUILD` error that says where it looked.
 *
 * @example
 * const { uri } = await findAptMirror("bookworm");
 */
export async function findAptMirror(suite: string, aptDir = "/etc/apt"): Promise<AptMirror> {
  const mirror = pickAptMirror(await readAptSources(aptDir), suite);
  if (mirror) return mirror;
  throw new ActvmError(
    "IMAGE_BUILD",
    `no usable Debian mirror in ${aptDir}/sources.list or ${aptDir}/sources.list.d/*.{list,sources}`,
    {
      subsystem: "image",
      hint: `add a "deb" source for ${suite} (http, https or file URI) to the host's apt configuration`,
    },
  );
}
