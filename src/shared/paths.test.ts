import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isActvmError } from "./errors.ts";
import { actvmPaths, ensureDirs } from "./paths.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "actvm-paths-"));
  dirs.push(d);
  return d;
}

describe("actvmPaths", () => {
  it("lays out everything under the home directory", () => {
    expect(actvmPaths("/h")).toEqual({
      home: "/h",
      db: "/h/actvm.db",
      sandboxes: "/h/sandboxes",
      actions: "/h/actions",
      cache: "/h/cache",
      images: "/h/cache/images",
      logs: "/h/logs",
    });
  });
});

describe("ensureDirs", () => {
  it("creates missing directories readable by the owner only", async () => {
    const home = path.join(tmp(), "a", ".actvm");
    const p = actvmPaths(home);
    const old = process.umask(0);
    try {
      await ensureDirs(p);
    } finally {
      process.umask(old);
    }
    for (const d of [p.home, p.sandboxes, p.actions, p.cache, p.logs])
      expect(statSync(d).mode & 0o777, d).toBe(0o700);
    await ensureDirs(p); // idempotent
  });

  it("refuses a home that is a file", async () => {
    const file = path.join(tmp(), "home");
    writeFileSync(file, "");
    const err = await ensureDirs(actvmPaths(file)).catch((e: unknown) => e);
    expect(isActvmError(err, "INVALID_CONFIG")).toBe(true);
  });
});
