import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hashFiles } from "./hash-files.ts";

let root: string;

function put(rel: string, content: string): void {
  const full = join(root, rel);
  mkdirSync(join(full, ".."), { recursive: true });
  writeFileSync(full, content);
}

/** The documented algorithm, written independently: digests of sorted paths, hashed again. */
function expected(rels: string[]): string {
  const outer = createHash("sha256");
  for (const rel of [...rels].map((r) => join(root, r)).sort()) {
    const content = readFileSync(rel);
    outer.update(createHash("sha256").update(content).digest());
  }
  return outer.digest("hex");
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "actvm-hash-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("hashFiles", () => {
  it("returns the empty string when nothing matches", async () => {
    put("a.txt", "a");
    expect(await hashFiles(root, ["**/*.lock"])).toBe("");
    expect(await hashFiles(root, [])).toBe("");
    expect(await hashFiles(join(root, "missing"), ["**"])).toBe("");
  });

  it("hashes the sorted matching files' digests", async () => {
    put("b/package-lock.json", "2");
    put("a/package-lock.json", "1");
    put("a/other.json", "x");
    expect(await hashFiles(root, ["**/package-lock.json"])).toBe(
      expected(["a/package-lock.json", "b/package-lock.json"]),
    );
  });

  it("does not depend on the order in which files were created", async () => {
    put("z.txt", "z");
    put("m/n.txt", "n");
    const first = await hashFiles(root, ["**/*.txt"]);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root);
    put("m/n.txt", "n");
    put("z.txt", "z");
    expect(await hashFiles(root, ["**/*.txt"])).toBe(first);
  });

  it("changes when a matched file's content changes", async () => {
    put("x.txt", "1");
    const before = await hashFiles(root, ["*.txt"]);
    put("x.txt", "2");
    expect(await hashFiles(root, ["*.txt"])).not.toBe(before);
  });

  it("excludes what a later ! pattern matches, including whole directories", async () => {
    put("src/a.js", "a");
    put("src/gen/b.js", "b");
    put("node_modules/c/d.js", "d");
    expect(await hashFiles(root, ["**/*.js", "!node_modules/**", "!src/gen"])).toBe(
      expected(["src/a.js"]),
    );
    // A later include brings an excluded file back, as @actions/glob does.
    expect(await hashFiles(root, ["**/*.js", "!src/gen", "src/gen/b.js"])).toBe(
      expected(["node_modules/c/d.js", "src/a.js", "src/gen/b.js"]),
    );
  });

  it("matches every file below a directory a pattern names, and hidden files", async () => {
    put("cfg/.hidden", "h");
    put("cfg/deep/x", "x");
    put("other", "o");
    expect(await hashFiles(root, ["cfg"])).toBe(expected(["cfg/.hidden", "cfg/deep/x"]));
  });

  it("supports ? and character classes within one segment only", async () => {
    put("a1.txt", "1");
    put("ab.txt", "b");
    put("a/1.txt", "nested");
    expect(await hashFiles(root, ["a?.txt"])).toBe(expected(["a1.txt", "ab.txt"]));
    expect(await hashFiles(root, ["a[0-9].txt"])).toBe(expected(["a1.txt"]));
  });

  it("accepts absolute patterns inside the root and ignores ones outside it", async () => {
    put("k/v.txt", "v");
    expect(await hashFiles(root, [join(root, "k/*.txt")])).toBe(expected(["k/v.txt"]));
    expect(await hashFiles(root, ["/etc/hostname", "../*"])).toBe("");
  });

  it("follows symbolic links to files and survives directory link cycles", async () => {
    put("real/f.txt", "f");
    symlinkSync(join(root, "real/f.txt"), join(root, "link.txt"));
    symlinkSync(root, join(root, "real/loop"));
    expect(await hashFiles(root, ["*.txt"])).toBe(expected(["link.txt"]));
    const all = await hashFiles(root, ["**/f.txt"]);
    expect(all).toBe(expected(["real/f.txt"]));
  });

  it("skips comment lines and splits newline-separated patterns", async () => {
    put("a.md", "a");
    put("b.md", "b");
    expect(await hashFiles(root, ["# comment\na.md\n\nb.md"])).toBe(expected(["a.md", "b.md"]));
  });
});
