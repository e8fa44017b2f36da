import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";

/** QEMU accelerator: hardware KVM, or TCG software emulation. */
export type QemuAccel = "kvm" | "tcg";

/** The accelerator to use and a sentence saying why, for `actvm doctor` and logs. */
export interface AccelDecision {
  accel: QemuAccel;
  reason: string;
}

/** Where {@link detectAccel} looks; tests point these at fixture files. */
export interface AccelProbePaths {
  devKvm?: string;
  pvmModule?: string;
  cpuinfo?: string;
}

/**
 * Decides between KVM and TCG for a stock guest kernel. KVM needs a usable `/dev/kvm` and the
 * CPU's hardware virtualisation (vmx/svm); a host whose KVM is the paravirtual PVM flavour
 * (`/sys/module/kvm_pvm`) cannot boot a stock kernel at all (it hangs), so it gets TCG too.
 *
 * @example
 * const { accel, reason } = await detectAccel(); // { accel: "tcg", reason: "TCG: no /dev/kvm" }
 */
export async function detectAccel(paths: AccelProbePaths = {}): Promise<AccelDecision> {
  const devKvm = paths.devKvm ?? "/dev/kvm";
  const pvmModule = paths.pvmModule ?? "/sys/module/kvm_pvm";
  const cpuinfo = paths.cpuinfo ?? "/proc/cpuinfo";
  try {
    await access(devKvm, constants.R_OK | constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? `no ${devKvm}` : `${devKvm} is not accessible (${code})`;
    return { accel: "tcg", reason: `TCG: ${why}; guests run under software emulation` };
  }
  try {
    await access(pvmModule);
    return {
      accel: "tcg",
      reason: `TCG: host KVM is the PVM flavour (${pvmModule}), which cannot boot a stock kernel`,
    };
  } catch {
    // Not PVM: check for hardware virtualisation below.
  }
  let flags: string;
  try {
    flags = await readFile(cpuinfo, "utf8");
  } catch {
    return { accel: "tcg", reason: `TCG: cannot read ${cpuinfo} to check for vmx/svm` };
  }
  if (!/^flags\s*:.*\b(vmx|svm)\b/m.test(flags)) {
    return {
      accel: "tcg",
      reason: "TCG: the CPU shows no vmx/svm flag (no hardware or nested virtualisation)",
    };
  }
  return {
    accel: "kvm",
    reason: `KVM: ${devKvm} is usable and the CPU has hardware virtualisation`,
  };
}
