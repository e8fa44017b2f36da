import { createProvider, type ProviderOptions } from "./select-backend.ts";
import type { BackendName, ProbeResult } from "./types.ts";

/** One backend's verdict, for `actvm doctor`. */
export interface BackendReport extends ProbeResult {
  name: BackendName;
}

// Strongest first: `--backend auto` takes the first available one in this order.
const ORDER: BackendName[] = ["firecracker", "qemu", "gvisor", "bwrap", "host"];

const PLANNED: Partial<Record<BackendName, Omit<ProbeResult, "available">>> = {
  firecracker: { isolation: "vm", detail: "not implemented yet in this build (issue #4)" },
};

/** Probes every backend, strongest first, and says why each is or is not usable here. */
export async function probeBackends(options: ProviderOptions): Promise<BackendReport[]> {
  const out: BackendReport[] = [];
  for (const name of ORDER) {
    const planned = PLANNED[name];
    if (planned) {
      out.push({ name, available: false, ...planned });
      continue;
    }
    out.push({ name, ...(await createProvider(name, options).probe()) });
  }
  return out;
}
