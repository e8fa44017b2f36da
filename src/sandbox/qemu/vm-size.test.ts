import { describe, expect, it } from "vitest";
import { vmSize } from "./vm-size.ts";

const defaults = { cpus: 1, memoryMb: 1024 };
const limits = { hostCpus: 8, maxMemoryMb: 16_384 };

describe("vmSize", () => {
  it("uses the defaults when the job says nothing", () => {
    expect(vmSize({ runsOn: ["ubuntu-latest"] }, defaults, limits)).toEqual(defaults);
  });

  it("reads core counts and memory from runs-on labels", () => {
    expect(vmSize({ runsOn: ["ubuntu-latest-4-cores", "memory-2gb"] }, defaults, limits)).toEqual({
      cpus: 4,
      memoryMb: 2048,
    });
    expect(vmSize({ runsOn: ["cpus-2", "512mb"] }, defaults, limits)).toEqual({
      cpus: 2,
      memoryMb: 512,
    });
  });

  it("lets explicit spec sizes win over labels", () => {
    expect(
      vmSize({ cpus: 3, memoryMb: 700, runsOn: ["8-cores", "4gb"] }, defaults, limits),
    ).toEqual({
      cpus: 3,
      memoryMb: 700,
    });
  });

  it("clamps to what the host can give", () => {
    expect(vmSize({ runsOn: ["64-cores", "memory-512gb"] }, defaults, limits)).toEqual({
      cpus: 8,
      memoryMb: 16_384,
    });
    expect(vmSize({ cpus: 0, memoryMb: 1 }, defaults, limits)).toEqual({ cpus: 1, memoryMb: 128 });
  });
});
