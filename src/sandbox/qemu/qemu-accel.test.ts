import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { detectAccel } from "./qemu-accel.ts";

describe("detectAccel", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "actvm-accel-"));
    await writeFile(join(dir, "kvm"), "");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cpuinfo = async (flags: string): Promise<string> => {
    const p = join(dir, "cpuinfo");
    await writeFile(p, `processor\t: 0\nflags\t\t: fpu sse2 ${flags} avx\n`);
    return p;
  };

  it("chooses KVM with a usable /dev/kvm and vmx or svm", async () => {
    const d = await detectAccel({
      devKvm: join(dir, "kvm"),
      pvmModule: join(dir, "no-pvm"),
      cpuinfo: await cpuinfo("vmx"),
    });
    expect(d.accel).toBe("kvm");
    expect(d.reason).toMatch(/^KVM: /);
  });

  it("falls back to TCG and says so when there is no /dev/kvm", async () => {
    const d = await detectAccel({ devKvm: join(dir, "missing"), cpuinfo: await cpuinfo("svm") });
    expect(d).toEqual({ accel: "tcg", reason: expect.stringMatching(/^TCG: no .*missing/) });
  });

  it("refuses the PVM flavour of KVM even with /dev/kvm present", async () => {
    await mkdir(join(dir, "kvm_pvm"));
    const d = await detectAccel({
      devKvm: join(dir, "kvm"),
      pvmModule: join(dir, "kvm_pvm"),
      cpuinfo: await cpuinfo("vmx"),
    });
    expect(d.accel).toBe("tcg");
    expect(d.reason).toMatch(/PVM flavour .*cannot boot a stock kernel/);
  });

  it("uses TCG when the CPU has no hardware virtualisation flag", async () => {
    const d = await detectAccel({
      devKvm: join(dir, "kvm"),
      pvmModule: join(dir, "no-pvm"),
      cpuinfo: await cpuinfo("hypervisor"),
    });
    expect(d.accel).toBe("tcg");
    expect(d.reason).toMatch(/no vmx\/svm/);
  });
});
