import type { VmSpec } from "../types.ts";

/** vCPUs and memory of one VM. */
export interface VmSize {
  cpus: number;
  memoryMb: number;
}

const CORES = /^(?:.*-)?(\d{1,3})-?(?:cores?|cpus?|vcpus?)$/i;
const MEMORY = /^(?:mem(?:ory)?-)?(\d{1,4}(?:\.\d+)?)-?(g|gb|gib|m|mb|mib)$/i;

/**
 * Sizes a VM: explicit `spec.cpus`/`spec.memoryMb` win, then `runs-on` labels such as
 * `4-cores`, `ubuntu-latest-8-cores`, `cpus-2`, `memory-4gb` or `2048mb` (GitHub's larger
 * runners are named by core count), then `defaults`. The result is clamped to what the host
 * can give: 1..`hostCpus` vCPUs and 128 MiB..`maxMemoryMb`.
 */
export function vmSize(
  spec: Pick<VmSpec, "cpus" | "memoryMb" | "runsOn">,
  defaults: VmSize,
  limits: { hostCpus: number; maxMemoryMb: number },
): VmSize {
  let cpus: number | undefined = spec.cpus;
  let memoryMb: number | undefined = spec.memoryMb;
  for (const raw of spec.runsOn ?? []) {
    const label = raw.trim();
    const cpuLabel = /^cpus?-(\d{1,3})$/i.exec(label) ?? CORES.exec(label);
    if (cpuLabel?.[1] && cpus === undefined) cpus = Number(cpuLabel[1]);
    const mem = MEMORY.exec(label);
    if (mem?.[1] && mem[2] && memoryMb === undefined) {
      const n = Number(mem[1]);
      memoryMb = Math.round(mem[2].toLowerCase().startsWith("g") ? n * 1024 : n);
    }
  }
  const clamp = (v: number, lo: number, hi: number): number =>
    Math.min(Math.max(Math.floor(v), lo), Math.max(lo, hi));
  return {
    cpus: clamp(cpus ?? defaults.cpus, 1, limits.hostCpus),
    memoryMb: clamp(memoryMb ?? defaults.memoryMb, 128, limits.maxMemoryMb),
  };
}
