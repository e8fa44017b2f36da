import { dirname, join, resolve } from "node:path";
import { ActvmError, isActvmError } from "../shared/errors.ts";
import { createBwrapProvider } from "./bwrap/bwrap-provider.ts";
import { createGvisorProvider } from "./gvisor/gvisor-provider.ts";
import { createHostProvider } from "./host/host-provider.ts";
import { createQemuProvider } from "./qemu/qemu-provider.ts";
import type { BackendName, ProbeResult, VmProvider } from "./types.ts";

const SUBSYSTEM = "sandbox";

/** What the user may ask for: a backend by name, or the strongest one available. */
export type BackendChoice = "auto" | BackendName;

/** Settings shared by every driver that {@link createProvider} can build. */
export interface ProviderOptions {
  /** Directory that holds one throwaway tree per VM. */
  baseDir: string;
  /** bwrap binary (path or name). Default "bwrap". */
  bwrapPath?: string;
  /** Where guest images are kept (gvisor, qemu). Default `<baseDir>/../cache/images`. */
  imagesDir?: string;
  /** Where the VM guest kernel and initramfs are cached (qemu). Default `<baseDir>/../cache/kernels`. */
  kernelCacheDir?: string;
  /** qemu: start VMs by restoring a snapshot of a booted guest. Default false. */
  qemuSnapshots?: boolean;
  /** qemu: idle VMs kept ready per image and size. Default 0. */
  qemuWarmPool?: number;
  /** Progress of slow one-time work (kernel download, VM snapshot). */
  onProgress?(message: string): void;
}

// Isolating backends `auto` tries, strongest first; host is the fallback after them.
const AUTO_ORDER: BackendName[] = ["qemu", "gvisor", "bwrap"];

function imagesDirOf(options: ProviderOptions): string {
  return options.imagesDir ?? join(dirname(resolve(options.baseDir)), "cache", "images");
}

/** The backend {@link selectBackend} chose, its probe and a sentence saying why. */
export interface BackendSelection {
  provider: VmProvider;
  probe: ProbeResult;
  reason: string;
}

/**
 * Builds the driver called `name`. Backends that this build does not include fail with
 * SANDBOX_UNAVAILABLE.
 */
export function createProvider(name: BackendName, options: ProviderOptions): VmProvider {
  switch (name) {
    case "host":
      return createHostProvider({ baseDir: options.baseDir });
    case "bwrap":
      return createBwrapProvider({ baseDir: options.baseDir, bwrapPath: options.bwrapPath });
    case "qemu":
      return createQemuProvider({
        baseDir: options.baseDir,
        imagesDir: imagesDirOf(options),
        kernelCacheDir:
          options.kernelCacheDir ?? join(dirname(resolve(options.baseDir)), "cache", "kernels"),
        snapshots: options.qemuSnapshots ?? false,
        warmPool: options.qemuWarmPool ?? 0,
        onProgress: options.onProgress,
      });
    case "gvisor":
      return createGvisorProvider({ baseDir: options.baseDir, imagesDir: imagesDirOf(options) });
    default:
      throw new ActvmError(
        "SANDBOX_UNAVAILABLE",
        `${JSON.stringify(name)}: not implemented yet in this build`,
        { subsystem: SUBSYSTEM, hint: "Use --backend qemu, gvisor, bwrap or host." },
      );
  }
}

/**
 * Picks the sandbox backend. `auto` takes the strongest one that works here (qemu, gvisor,
 * bwrap, else host, which does not isolate); a named backend that cannot run fails with
 * SANDBOX_UNAVAILABLE carrying the probe's detail and fix.
 *
 * @example
 * const { provider, reason } = await selectBackend("auto", { baseDir });
 * console.log(`sandbox: ${reason}`);
 */
export async function selectBackend(
  choice: BackendChoice,
  options: ProviderOptions,
): Promise<BackendSelection> {
  if (choice !== "auto") {
    const provider = createProvider(choice, options);
    const probe = await provider.probe();
    if (!probe.available) {
      throw new ActvmError("SANDBOX_UNAVAILABLE", `${choice}: ${probe.detail}`, {
        subsystem: SUBSYSTEM,
        hint: probe.fix,
      });
    }
    return { provider, probe, reason: `${choice}: ${probe.detail}` };
  }
  const skipped: string[] = [];
  for (const name of AUTO_ORDER) {
    let provider: VmProvider;
    try {
      provider = createProvider(name, options);
    } catch (err) {
      // A backend this build does not include is simply not a candidate.
      if (isActvmError(err, "SANDBOX_UNAVAILABLE")) continue;
      throw err;
    }
    const probe = await provider.probe();
    if (probe.available) {
      const why = skipped.length > 0 ? ` (${skipped.join("; ")})` : "";
      return { provider, probe, reason: `${name}: ${probe.detail}${why}` };
    }
    skipped.push(
      `${name} unavailable: ${probe.fix ? `${probe.detail} (${probe.fix})` : probe.detail}`,
    );
  }
  const host = createProvider("host", options);
  const hostProbe = await host.probe();
  return {
    provider: host,
    probe: hostProbe,
    reason: `host: ${skipped.join("; ")}; jobs are NOT isolated`,
  };
}
