import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildProcess, writeBuildOwner } from "./build-dir.ts";
import { fakeImage } from "./image-store.test-support.ts";
import { sweepImageTemp } from "./sweep-image-temp.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function imagesDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "actvm-sweep-"));
  dirs.push(d);
  return d;
}

async function deadPid(): Promise<number> {
  const child = spawn("true");
  await new Promise((r) => child.once("exit", r));
  return child.pid as number;
}

describe("sweepImageTemp", () => {
  it("removes a build whose process is gone and kills the step it left running", async () => {
    const d = imagesDir();
    const tmp = path.join(d, ".tmp-dead");
    mkdirSync(path.join(tmp, "rootfs"), { recursive: true });
    const step = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
    const exited = new Promise((r) => step.once("exit", r));
    await writeBuildOwner(tmp, {
      owner: { pid: await deadPid(), startTime: null },
      groups: [buildProcess(step.pid as number)],
    });
    const removed = await sweepImageTemp(d);
    expect(removed).toEqual([tmp]);
    expect(existsSync(tmp)).toBe(false);
    await exited;
  });

  it("keeps a build whose process still runs, and a young build without an owner record", async () => {
    const d = imagesDir();
    const live = path.join(d, ".tmp-live");
    mkdirSync(live);
    await writeBuildOwner(live, { owner: buildProcess(process.pid), groups: [] });
    const young = path.join(d, ".tmp-young");
    mkdirSync(young);
    expect(await sweepImageTemp(d)).toEqual([]);
    expect(existsSync(live) && existsSync(young)).toBe(true);
  });

  it("removes an old ownerless build and half-removed images, never finished images", async () => {
    const d = imagesDir();
    const old = path.join(d, ".tmp-old");
    mkdirSync(old);
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(old, past, past);
    const half = path.join(d, ".rm-default-aaaaaaaaaaaa-1234");
    mkdirSync(path.join(half, "rootfs"), { recursive: true });
    const id = fakeImage(d, "default", "a", "2026-01-01T00:00:00.000Z");
    mkdirSync(path.join(d, ".debs"));
    expect((await sweepImageTemp(d)).sort()).toEqual([half, old].sort());
    expect(existsSync(path.join(d, id))).toBe(true);
    expect(existsSync(path.join(d, ".debs"))).toBe(true);
  });
});
