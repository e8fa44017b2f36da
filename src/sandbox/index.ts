export type {
  BackendName,
  GuestPaths,
  IsolationLevel,
  ProbeResult,
  Vm,
  VmProvider,
  VmSpec,
} from "./types.ts";
export {
  SESSION_STATES,
  SESSION_TRANSITIONS,
  type Session,
  type SessionState,
  type SessionStats,
} from "./session.ts";
export {
  createSessionManager,
  type CreateSessionOptions,
  type SessionManager,
  type SessionManagerOptions,
} from "./session-manager.ts";
export { createHostProvider, type HostProviderOptions } from "./host/host-provider.ts";
export { createBwrapProvider, type BwrapProviderOptions } from "./bwrap/bwrap-provider.ts";
export { BWRAP_GUEST_PATHS } from "./bwrap/bwrap-args.ts";
export {
  createQemuProvider,
  QEMU_GUEST_PATHS,
  type QemuProvider,
  type QemuProviderOptions,
} from "./qemu/qemu-provider.ts";
export { createGvisorProvider, type GvisorProviderOptions } from "./gvisor/gvisor-provider.ts";
export {
  createProvider,
  selectBackend,
  type BackendChoice,
  type BackendSelection,
  type ProviderOptions,
} from "./select-backend.ts";
export { sweepLeftovers, type SweepOptions, type SweepReport } from "./sweep-leftovers.ts";
export { assertVmLabel } from "./vm-label.ts";
export { probeBackends, type BackendReport } from "./probe-backends.ts";
