import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isActvmError } from "../../shared/errors.ts";
import { createActionCache } from "./action-cache.ts";
import { parseUsesReference } from "./parse-uses-reference.ts";
import type { UsesRef } from "./uses-ref.ts";

let root: string;
let remotes: string;
let v1Sha: string;
let n = 0;

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.test",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.test",
    },
  }).trim();
}

function write(dir: string, files: Record<string, string>): void {
  for (const [f, c] of Object.entries(files)) {
    mkdirSync(join(dir, f, ".."), { recursive: true });
    writeFileSync(join(dir, f), c);
  }
}

const ref = (uses: string): UsesRef => {
  const r = parseUsesReference(uses);
  if (!r.value) throw new Error(r.diagnostics[0]?.message);
  return r.value;
};

const fresh = (name: string) => join(root, `${name}-${++n}`);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "actvm-actions-"));
  const globalConfig = join(root, "gitconfig");
  writeFileSync(globalConfig, "");
  process.env.GIT_CONFIG_GLOBAL = globalConfig;
  process.env.GIT_CONFIG_NOSYSTEM = "1";

  // One source repository with two versions, published as the bare repo remotes/acme/tool.
  const src = join(root, "src");
  mkdirSync(src);
  git(src, "init", "-q", "-b", "main");
  write(src, { "action.yml": "name: tool v1\n", "sub/action.yaml": "name: sub v1\n" });
  git(src, "add", "-A");
  git(src, "commit", "-q", "-m", "v1");
  git(src, "tag", "v1");
  v1Sha = git(src, "rev-parse", "HEAD");
  write(src, {
    "action.yml": "name: tool v2\n",
    "sub/action.yaml": "name: sub v2\n",
    "nometa/readme.md": "x",
  });
  git(src, "add", "-A");
  git(src, "commit", "-q", "-m", "v2");
  git(src, "branch", "release/2.x");
  remotes = join(root, "remotes");
  mkdirSync(join(remotes, "acme"), { recursive: true });
  git(root, "clone", "-q", "--bare", src, join(remotes, "acme", "tool"));
  git(root, "clone", "-q", "--bare", src, join(remotes, "acme", "dotgit.git"));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const manifestName = (dir: string) =>
  readFileSync(
    join(dir, existsSync(join(dir, "action.yml")) ? "action.yml" : "action.yaml"),
    "utf8",
  ).trim();

describe("createActionCache: remote actions", () => {
  it("clones by tag into <cacheDir>/<owner>/<repo>/<ref> without history", async () => {
    const cacheDir = fresh("cache");
    const cache = createActionCache({ cacheDir, baseUrl: pathToFileURL(remotes).href });
    const r = await cache.resolve(ref("acme/tool@v1"), root);
    expect(r.source).toBe("git");
    expect(r.dir).toBe(join(cacheDir, "acme", "tool", "v1"));
    expect(r.manifest).toBe(join(r.dir, "action.yml"));
    expect(manifestName(r.dir)).toBe("name: tool v1");
    expect(existsSync(join(r.dir, ".git"))).toBe(false);
    expect(readdirSync(join(cacheDir, ".tmp"))).toEqual([]);
  });

  it("clones a branch with a slash into a sanitised directory", async () => {
    const cacheDir = fresh("cache");
    const cache = createActionCache({ cacheDir, baseUrl: remotes });
    const r = await cache.resolve(ref("acme/tool@release/2.x"), root);
    expect(r.dir).toBe(join(cacheDir, "acme", "tool", "release%2F2.x"));
    expect(manifestName(r.dir)).toBe("name: tool v2");
  });

  it("fetches a full commit sha", async () => {
    const cache = createActionCache({ cacheDir: fresh("cache"), baseUrl: remotes });
    const r = await cache.resolve(ref(`acme/tool@${v1Sha}`), root);
    expect(r.source).toBe("git");
    expect(manifestName(r.dir)).toBe("name: tool v1");
  });

  it("returns the sub-directory of owner/repo/path@ref and accepts action.yaml", async () => {
    const cache = createActionCache({ cacheDir: fresh("cache"), baseUrl: remotes });
    const r = await cache.resolve(ref("acme/tool/sub@main"), root);
    expect(r.dir.endsWith(join("acme", "tool", "main", "sub"))).toBe(true);
    expect(r.manifest).toBe(join(r.dir, "action.yaml"));
    expect(manifestName(r.dir)).toBe("name: sub v2");
  });

  it("finds a bare repository named <repo>.git", async () => {
    const cache = createActionCache({
      cacheDir: fresh("cache"),
      baseUrl: pathToFileURL(remotes).href,
    });
    expect(manifestName((await cache.resolve(ref("acme/dotgit@v1"), root)).dir)).toBe(
      "name: tool v1",
    );
  });

  it("serves a cached action after the remote is gone", async () => {
    const cacheDir = fresh("cache");
    const moved = fresh("remotes");
    git(root, "clone", "-q", "--bare", join(remotes, "acme", "tool"), join(moved, "acme", "tool"));
    const first = await createActionCache({ cacheDir, baseUrl: moved }).resolve(
      ref("acme/tool@v1"),
      root,
    );
    expect(first.source).toBe("git");
    rmSync(moved, { recursive: true, force: true });
    const again = await createActionCache({ cacheDir, baseUrl: moved }).resolve(
      ref("acme/tool@v1"),
      root,
    );
    expect(again.source).toBe("cache");
    expect(again.dir).toBe(first.dir);
    expect(manifestName(again.dir)).toBe("name: tool v1");
  });

  it("prefers an offline copy in localDir, ref-specific first", async () => {
    const localDir = fresh("offline");
    write(localDir, {
      "acme/tool@v1/action.yml": "name: offline v1\n",
      "acme/tool/action.yml": "name: offline any\n",
    });
    const cache = createActionCache({
      cacheDir: fresh("cache"),
      baseUrl: join(root, "no-such-remotes"),
      localDir,
    });
    const exact = await cache.resolve(ref("acme/tool@v1"), root);
    expect(exact).toMatchObject({ source: "localDir", dir: join(localDir, "acme", "tool@v1") });
    expect(manifestName(exact.dir)).toBe("name: offline v1");
    const any = await cache.resolve(ref("acme/tool@v9"), root);
    expect(any).toMatchObject({ source: "localDir", dir: join(localDir, "acme", "tool") });
  });

  it("falls through to git when localDir has no copy", async () => {
    const cache = createActionCache({
      cacheDir: fresh("cache"),
      baseUrl: remotes,
      localDir: fresh("empty-offline"),
    });
    expect((await cache.resolve(ref("acme/tool@v1"), root)).source).toBe("git");
  });

  it("survives five concurrent resolves of the same action in one cache and across caches", async () => {
    const shared = fresh("cache");
    const one = createActionCache({ cacheDir: shared, baseUrl: remotes });
    const sameInstance = await Promise.all(
      Array.from({ length: 5 }, () => one.resolve(ref("acme/tool@v1"), root)),
    );
    expect(new Set(sameInstance.map((r) => r.dir)).size).toBe(1);

    // Separate instances share no in-memory state, like separate processes.
    const other = fresh("cache");
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        createActionCache({ cacheDir: other, baseUrl: remotes }).resolve(
          ref("acme/tool@main"),
          root,
        ),
      ),
    );
    expect(new Set(results.map((r) => r.dir))).toEqual(
      new Set([join(other, "acme", "tool", "main")]),
    );
    expect(manifestName(results[0]!.dir)).toBe("name: tool v2");
    expect(readdirSync(join(other, "acme", "tool"))).toEqual(["main"]);
    expect(readdirSync(join(other, ".tmp"))).toEqual([]);
  });

  it("fails with ACTION_RESOLVE, the URL and an offline hint for an unknown ref, leaving nothing behind", async () => {
    const cacheDir = fresh("cache");
    const cache = createActionCache({ cacheDir, baseUrl: remotes });
    const err = await cache.resolve(ref("acme/tool@v404"), root).catch((e: unknown) => e);
    expect(isActvmError(err, "ACTION_RESOLVE")).toBe(true);
    expect((err as Error).message).toContain("acme/tool@v404");
    expect((err as Error).message).toContain(pathToFileURL(join(remotes, "acme", "tool")).href);
    expect((err as { hint?: string }).hint).toContain("ACTVM_ACTIONS_DIR");
    expect(existsSync(join(cacheDir, "acme", "tool", "v404"))).toBe(false);
    expect(readdirSync(join(cacheDir, ".tmp"))).toEqual([]);
  });

  it("fails for an unknown commit sha and an unknown repository", async () => {
    const cache = createActionCache({ cacheDir: fresh("cache"), baseUrl: remotes });
    const bySha = await cache
      .resolve(ref(`acme/tool@${"0123456789".repeat(4)}`), root)
      .catch((e: unknown) => e);
    expect(isActvmError(bySha, "ACTION_RESOLVE")).toBe(true);
    const byRepo = await cache.resolve(ref("acme/missing@v1"), root).catch((e: unknown) => e);
    expect(isActvmError(byRepo, "ACTION_RESOLVE")).toBe(true);
    expect((byRepo as Error).message).toContain("acme/missing@v1");
  });

  it("fails when the path holds no action.yml", async () => {
    const cache = createActionCache({ cacheDir: fresh("cache"), baseUrl: remotes });
    const err = await cache.resolve(ref("acme/tool/nometa@main"), root).catch((e: unknown) => e);
    expect(isActvmError(err, "ACTION_RESOLVE")).toBe(true);
    expect((err as Error).message).toContain("no action.yml or action.yaml");
  });

  it("times out against a server that never answers, without printing credentials", async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const cache = createActionCache({
        cacheDir: fresh("cache"),
        baseUrl: `http://x-access-token:s3cr3tvalue@127.0.0.1:${port}`,
        git: { timeoutMs: 1500 },
      });
      const started = Date.now();
      const err = await cache.resolve(ref("acme/tool@v1"), root).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(isActvmError(err, "ACTION_RESOLVE")).toBe(true);
      expect((err as Error).message).toContain("timed out");
      expect((err as Error).message).toContain(`127.0.0.1:${port}/acme/tool`);
      expect(
        JSON.stringify({ m: (err as Error).message, h: (err as { hint?: string }).hint }),
      ).not.toContain("s3cr3tvalue");
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("stops a fetch when the signal aborts", async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const cache = createActionCache({
        cacheDir: fresh("cache"),
        baseUrl: `http://127.0.0.1:${port}`,
      });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      const err = await cache
        .resolve(ref("acme/tool@v1"), root, { signal: ac.signal })
        .catch((e: unknown) => e);
      expect(isActvmError(err, "CANCELLED")).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("removes temp clones a crashed process left behind", async () => {
    const cacheDir = fresh("cache");
    const stale = join(cacheDir, ".tmp", "acme-tool-dead");
    mkdirSync(stale, { recursive: true });
    const old = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    utimesSync(stale, old, old);
    await createActionCache({ cacheDir, baseUrl: remotes }).resolve(ref("acme/tool@v1"), root);
    expect(existsSync(stale)).toBe(false);
  });

  it("refuses docker:// references", async () => {
    const cache = createActionCache({ cacheDir: fresh("cache"), baseUrl: remotes });
    const err = await cache.resolve(ref("docker://alpine:3"), root).catch((e: unknown) => e);
    expect(isActvmError(err, "ACTION_RESOLVE")).toBe(true);
    expect((err as Error).message).toContain("not supported");
  });
});

describe("createActionCache: local actions", () => {
  it("resolves ./path inside the repository", async () => {
    const repo = fresh("repo");
    write(repo, { ".github/actions/build/action.yml": "name: build\n" });
    const cache = createActionCache({ cacheDir: fresh("cache"), baseUrl: remotes });
    const r = await cache.resolve(ref("./.github/actions/build"), repo);
    expect(r).toMatchObject({ source: "local", dir: join(repo, ".github", "actions", "build") });
  });

  it("fails clearly for a missing directory or one without action.yml", async () => {
    const repo = fresh("repo");
    write(repo, { "empty/readme.md": "x" });
    const cache = createActionCache({ cacheDir: fresh("cache"), baseUrl: remotes });
    const missing = await cache.resolve(ref("./nope"), repo).catch((e: unknown) => e);
    expect(isActvmError(missing, "ACTION_RESOLVE")).toBe(true);
    expect((missing as Error).message).toContain("no directory nope");
    const noMeta = await cache.resolve(ref("./empty"), repo).catch((e: unknown) => e);
    expect((noMeta as Error).message).toContain("no action.yml or action.yaml");
  });

  it("refuses a symbolic link that leads out of the repository", async () => {
    const repo = fresh("repo");
    const outside = fresh("outside");
    write(outside, { "action.yml": "name: evil\n" });
    mkdirSync(repo, { recursive: true });
    symlinkSync(outside, join(repo, "link"));
    const cache = createActionCache({ cacheDir: fresh("cache"), baseUrl: remotes });
    const err = await cache.resolve(ref("./link"), repo).catch((e: unknown) => e);
    expect(isActvmError(err, "ACTION_RESOLVE")).toBe(true);
    expect((err as Error).message).toContain("outside the repository");
  });
});
