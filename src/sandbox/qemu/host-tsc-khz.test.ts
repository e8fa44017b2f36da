import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hostTscKhz } from "./host-tsc-khz.ts";

describe("hostTscKhz", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "actvm-tsc-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the first CPU's clock in kHz", async () => {
    const f = join(dir, "cpuinfo");
    await writeFile(
      f,
      "processor\t: 0\ncpu MHz\t\t: 2596.120\n\nprocessor\t: 1\ncpu MHz\t\t: 800.000\n",
    );
    expect(await hostTscKhz(f)).toBe(2_596_120);
  });

  it("gives up on a missing file, a missing field or an absurd value", async () => {
    expect(await hostTscKhz(join(dir, "missing"))).toBeUndefined();
    const f = join(dir, "cpuinfo");
    await writeFile(f, "processor\t: 0\nBogoMIPS\t: 100.00\n");
    expect(await hostTscKhz(f)).toBeUndefined();
    await writeFile(f, "cpu MHz\t\t: 0.001\n");
    expect(await hostTscKhz(f)).toBeUndefined();
  });
});
