import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { isAbsolute, join } from "node:path";
import { compileGlobPattern, matchesExactly } from "./glob-pattern.ts";
import type { GlobPattern } from "./glob-pattern.ts";

function isPrefix(a: string[], b: string[]): boolean {
  return a.length <= b.length && a.every((seg, i) => seg === b[i]);
}

/** Last matching pattern wins; a match on any ancestor directory counts for what is below it. */
function selected(patterns: GlobPattern[], path: string[], isDir: boolean): boolean {
  let included = false;
  for (const pattern of patterns) {
    if (included === !pattern.negate) continue;
    let hit = false;
    for (let k = path.length; k >= 0 && !hit; k--) {
      const entryIsDir = k < path.length || isDir;
      if (pattern.directoryOnly && !entryIsDir) continue;
      hit = matchesExactly(pattern, path.slice(0, k));
    }
    if (hit) included = !pattern.negate;
  }
  return included;
}

async function fileDigest(path: string): Promise<Buffer> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest();
}

async function collectFiles(root: string, patterns: GlobPattern[]): Promise<string[]> {
  const includes = patterns.filter((p) => !p.negate);
  const files: string[] = [];
  const walk = async (dir: string, rel: string[], ancestors: Set<string>): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const full = join(dir, name);
      const path = [...rel, name];
      let info: Stats;
      try {
        // Symbolic links are followed, as GitHub's hashFiles() does.
        info = await stat(full);
      } catch {
        continue;
      }
      if (info.isDirectory()) {
        const key = `${info.dev}:${info.ino}`;
        if (ancestors.has(key)) continue;
        const reachable = includes.some(
          (p) => isPrefix(p.literalPrefix, path) || isPrefix(path, p.literalPrefix),
        );
        if (!reachable) continue;
        await walk(full, path, new Set([...ancestors, key]));
      } else if (info.isFile() && selected(patterns, path, false)) {
        files.push(full);
      }
    }
  };
  let rootInfo: Stats;
  try {
    rootInfo = await stat(root);
  } catch {
    return [];
  }
  if (!rootInfo.isDirectory()) return [];
  await walk(root, [], new Set([`${rootInfo.dev}:${rootInfo.ino}`]));
  return files.sort();
}

/**
 * GitHub's hashFiles(): the SHA-256 of each regular file under `root` that the patterns select,
 * in sorted path order, fed as raw digests into one more SHA-256; "" when nothing matches.
 *
 * @example
 * await hashFiles("/work/repo", ["**\/package-lock.json", "!node_modules/**"]);
 */
export async function hashFiles(root: string, patterns: string[]): Promise<string> {
  if (!isAbsolute(root)) throw new Error(`root "${root}" is not absolute`);
  const compiled = patterns
    .flatMap((p) => p.split("\n"))
    .map((p) => compileGlobPattern(p, root))
    .filter((p): p is GlobPattern => p !== undefined);
  if (!compiled.some((p) => !p.negate)) return "";
  const files = await collectFiles(root, compiled);
  if (files.length === 0) return "";
  const result = createHash("sha256");
  for (const file of files) result.update(await fileDigest(file));
  return result.digest("hex");
}
