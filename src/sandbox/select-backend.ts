import { ActvmError } from "../shared/errors.ts";
import { createBwrapProvider } from "./bwrap/bwrap-provider.ts";
import { createHostProvider } from "./host/host-provider.ts";
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
    default:
      throw new ActvmError(
        "SANDBOX_UNAVAILABLE",
        `${JSON.stringify(name)}: not implemented yet in this build`,
        { subsystem: SUBSYSTEM, hint: "Use --backend bwrap or --backend host." },
      );
  }
}

/**
 * Picks the sandbox backend. `auto` takes the strongest one that works here (bwrap, else host,
 * which does not isolate); a named backend that cannot run fails with SANDBOX_UNAVAILABLE
 * carrying the probe's detail and fix.
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
  const bwrap = createProvider("bwrap", options);
  const bwrapProbe = await bwrap.probe();
  if (bwrapProbe.available) {
    return { provider: bwrap, probe: bwrapProbe, reason: `bwrap: ${bwrapProbe.detail}` };
  }
  const host = createProvider("host", options);
  const hostProbe = await host.probe();
  const why = bwrapProbe.fix ? `${bwrapProbe.detail} (${bwrapProbe.fix})` : bwrapProbe.detail;
  return {
    provider: host,
    probe: hostProbe,
    reason: `host: bwrap unavailable: ${why}; jobs are NOT isolated`,
  };
}
