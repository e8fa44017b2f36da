import { readFile } from "node:fs/promises";

/**
 * The host CPU's clock in kHz from `/proc/cpuinfo` ("cpu MHz" of the first CPU), or undefined
 * when it cannot be read. Under TCG the guest's TSC ticks with the host's, and telling the guest
 * kernel its rate (`tsc_early_khz=`) spares it the PIT calibration that sometimes fails under
 * emulation and then hangs the boot with no console output.
 */
export async function hostTscKhz(cpuinfo = "/proc/cpuinfo"): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(cpuinfo, "utf8");
  } catch {
    return undefined;
  }
  const mhz = /^cpu MHz\s*:\s*(\d+(?:\.\d+)?)\s*$/m.exec(text)?.[1];
  if (!mhz) return undefined;
  const khz = Math.round(Number(mhz) * 1000);
  // Outside 100 MHz..10 GHz the reading is nonsense; a wrong rate is worse than calibrating.
  return khz >= 100_000 && khz <= 10_000_000 ? khz : undefined;
}
