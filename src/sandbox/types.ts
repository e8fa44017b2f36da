import type { AgentClient } from "../guest/index.ts";

/** Names of the sandbox drivers. Only some are implemented on a given build; see `probe()`. */
export type BackendName = "host" | "bwrap" | "gvisor" | "qemu" | "firecracker" | "remote";

/** How strongly a backend isolates a job from the host. Ordered weakest to strongest. */
export type IsolationLevel = "none" | "namespaces" | "syscall-filter" | "vm";

/** What a job asks of its sandbox. */
export interface VmSpec {
  /** Stable id for logs and leftovers, e.g. the job's id in the store. Letters, digits, `-`. */
  label: string;
  /** Give the guest network access. Default off for untrusted runs. */
  network: boolean;
  cpus?: number;
  memoryMb?: number;
  /** Guest image name (VM-grade backends only). */
  image?: string;
  /** `runs-on` labels, informational for drivers that map them to sizes. */
  runsOn?: string[];
}

/** Where things live as the guest sees them. All absolute paths inside the sandbox. */
export interface GuestPaths {
  /** `github.workspace`: the repository copy the job works in. */
  workspace: string;
  /** `runner.temp`: emptied per job. Env files and step scripts go here. */
  temp: string;
  /** `runner.tool_cache`. */
  toolCache: string;
  /** Where actions are placed for the job (`uses:` resolves into here). */
  actions: string;
  /** HOME for the job's processes. */
  home: string;
}

/** One live sandbox. Owned by the provider that allocated it; give it back with `release`. */
export interface Vm {
  readonly id: string;
  readonly backend: BackendName;
  readonly paths: GuestPaths;
  /** The agent inside this sandbox. Same protocol for every backend. */
  agent(): AgentClient;
}

/** Result of asking a backend whether it can run here. */
export interface ProbeResult {
  available: boolean;
  isolation: IsolationLevel;
  /** Why not, or what it runs on (e.g. "bubblewrap 0.8.0, user namespaces"). */
  detail: string;
  /** The command that fixes it when unavailable. */
  fix?: string;
}

/**
 * A sandbox driver. `allocate` is idempotent per `spec.label` only in that a retry gets a fresh
 * sandbox; `release` always tears everything down (processes, overlays, temp dirs) and never
 * throws for a sandbox that is already gone.
 */
export interface VmProvider {
  readonly name: BackendName;
  probe(): Promise<ProbeResult>;
  allocate(spec: VmSpec, signal?: AbortSignal): Promise<Vm>;
  release(vm: Vm): Promise<void>;
  /**
   * Releases what the provider keeps on its own (e.g. a warm pool of idle VMs) and stops
   * background work. Optional: providers without such state omit it.
   */
  close?(): Promise<void>;
}
