import type { Vm, VmSpec } from "./types.ts";

/** Lifecycle of a session: created → active ⇄ executing → completed | failed. */
export type SessionState = "created" | "active" | "executing" | "completed" | "failed";

/** Every session state, in lifecycle order. */
export const SESSION_STATES: readonly SessionState[] = [
  "created",
  "active",
  "executing",
  "completed",
  "failed",
];

/**
 * The state changes a session may make. `completed` and `failed` are final: a finished job's
 * sandbox is released, never reused.
 */
export const SESSION_TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  created: ["active", "failed"],
  active: ["executing", "completed", "failed"],
  executing: ["active", "completed", "failed"],
  completed: [],
  failed: [],
};

/** One job's hold on a sandbox, as kept by the SessionManager (the seed's `Session`). */
export interface Session {
  readonly id: string;
  readonly vm: Vm;
  readonly spec: VmSpec;
  readonly state: SessionState;
  /** ms since the epoch, from the manager's clock. */
  readonly createdAt: number;
  /** Last state change, snapshot or `touch`; stale-session cleanup measures idleness from it. */
  readonly lastActivity: number;
  /** Snapshot ids taken in this session, oldest first. */
  readonly snapshots: readonly string[];
}

/** Counters of a SessionManager: lifetime totals plus what is live right now. */
export interface SessionStats {
  /** Live sessions (each holding a sandbox), whatever their state. */
  active: number;
  /** Allocation attempts that got a slot: created + failed + still allocating. */
  total: number;
  /** Sessions created since the manager started. */
  created: number;
  /** Sessions released since the manager started. */
  released: number;
  /** Allocations that failed since the manager started. */
  failed: number;
  /** Releases whose provider call threw (the slot was freed anyway). */
  releaseErrors: number;
  /** Callers waiting for a free slot. */
  waiting: number;
  /** Snapshots across live sessions. */
  snapshots: number;
  /** Live sessions by state; `created` counts allocations still in progress. */
  byState: Record<SessionState, number>;
}
