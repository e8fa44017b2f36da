import { existsSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createConsoleLog } from "./console-log.ts";

describe("createConsoleLog", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "actvm-console-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps what the guest printed on disk and its tail in memory", async () => {
    const log = createConsoleLog(join(dir, "console.log"));
    log.write(Buffer.from("booting\n"));
    log.write(Buffer.from("actvm-initramfs: no root disk\n"));
    log.close();
    expect(await readFile(join(dir, "console.log"), "utf8")).toBe(
      "booting\nactvm-initramfs: no root disk\n",
    );
    expect(log.tail(20)).toBe("ramfs: no root disk\n");
  });

  it("never lets a flooding guest use more than its byte budget", () => {
    const path = join(dir, "console.log");
    const log = createConsoleLog(path, 64 * 1024);
    const line = Buffer.from(`${"x".repeat(99)}\n`);
    for (let i = 0; i < 10_000; i++) log.write(line);
    log.write(Buffer.from("last words\n"));
    log.close();
    const total = statSync(path).size + (existsSync(`${path}.1`) ? statSync(`${path}.1`).size : 0);
    expect(total).toBeLessThanOrEqual(64 * 1024);
    expect(log.tail()).toMatch(/last words\n$/);
  });
});
