import type { Vm } from "./types.ts";

/** A driver's record of a live sandbox; `releasing` is the one teardown in flight. */
export interface LiveVmState {
  releasing?: Promise<void>;
}

/**
 * Tears a sandbox down exactly once: concurrent and repeated releases share the first
 * teardown, and a sandbox the driver does not know (already released) is a no-op.
 */
export async function releaseOnce<S extends LiveVmState>(
  live: WeakMap<Vm, S>,
  vm: Vm,
  teardown: (state: S) => Promise<void>,
): Promise<void> {
  const state = live.get(vm);
  if (!state) return;
  state.releasing ??= teardown(state);
  try {
    await state.releasing;
  } finally {
    live.delete(vm);
  }
}
