import { randomUUID } from "node:crypto";
import { ActvmError } from "../shared/errors.ts";
import {
  SESSION_STATES,
  SESSION_TRANSITIONS,
  type Session,
  type SessionState,
  type SessionStats,
} from "./session.ts";
import type { Vm, VmProvider, VmSpec } from "./types.ts";

const SUBSYSTEM = "sandbox/session";
/** Longer than GitHub's 360-minute job limit, so a legitimate job is never reaped as stale. */
const DEFAULT_STALE_AFTER_MS = 370 * 60 * 1000;

/** Collaborators and limits of a {@link SessionManager}. */
export interface SessionManagerOptions {
  provider: VmProvider;
  /** Most sessions (including ones still allocating) alive at once; at least 1. */
  maxConcurrent: number;
  /** Idle time after which `cleanupStale` releases a session. Default 370 minutes. */
  staleAfterMs?: number;
  clock?: { now(): number };
  /**
   * Receives errors that cannot be thrown to a caller (a release failing while another error is
   * already propagating, or during `stop`/`cleanupStale`). Default: a process warning.
   */
  onError?(err: unknown, context: { sessionId: string; operation: string }): void;
}

/** Options of {@link SessionManager.createSession}. */
export interface CreateSessionOptions {
  /** Wait for a free slot instead of failing with SESSION_LIMIT (honours the AbortSignal). */
  wait?: boolean;
}

/** Owns sessions: one sandbox each, a concurrency limit, state, stale cleanup and statistics. */
export interface SessionManager {
  readonly provider: VmProvider;
  /**
   * Reserves a slot and allocates a sandbox; the session starts `active`. Without `wait`, fails
   * with SESSION_LIMIT when all slots are taken; an aborted `signal` fails with CANCELLED.
   */
  createSession(
    spec: VmSpec,
    signal?: AbortSignal,
    options?: CreateSessionOptions,
  ): Promise<Session>;
  getSession(id: string): Session | undefined;
  listSessions(): Session[];
  /** Moves a session along {@link SESSION_TRANSITIONS}; SESSION_STATE when not allowed. */
  updateState(id: string, state: SessionState): Session;
  addSnapshot(id: string, snapshotId: string): Session;
  /** Marks a session as in use, so `cleanupStale` leaves it alone. */
  touch(id: string): Session;
  /**
   * Releases the session's sandbox and frees its slot, even when the provider throws (the
   * error is then rethrown). Resolves false when the session was already released or unknown.
   */
  releaseSession(id: string): Promise<boolean>;
  /** Runs `fn` in a new session and always releases the session afterwards. */
  withSession<T>(
    spec: VmSpec,
    fn: (session: Session) => Promise<T>,
    options?: CreateSessionOptions & { signal?: AbortSignal },
  ): Promise<T>;
  stats(): SessionStats;
  /** Releases sessions idle for longer than `staleAfterMs`; resolves to how many. */
  cleanupStale(): Promise<number>;
  /** Refuses new sessions, fails waiters with CANCELLED and releases every session. */
  stop(): Promise<void>;
}

interface MutableSession {
  id: string;
  vm: Vm;
  spec: VmSpec;
  state: SessionState;
  createdAt: number;
  lastActivity: number;
  snapshots: string[];
}

interface Waiter {
  grant(): void;
  refuse(err: ActvmError): void;
}

function view(s: MutableSession): Session {
  return {
    id: s.id,
    vm: s.vm,
    spec: s.spec,
    state: s.state,
    createdAt: s.createdAt,
    lastActivity: s.lastActivity,
    snapshots: [...s.snapshots],
  };
}

function defaultOnError(err: unknown, context: { sessionId: string; operation: string }): void {
  const message = err instanceof Error ? err.message : String(err);
  process.emitWarning(`${context.operation} of session ${context.sessionId} failed: ${message}`, {
    code: "ACTVM_SESSION",
  });
}

/**
 * Creates a SessionManager. Slots are reserved synchronously before any await, so N concurrent
 * callers with a limit of M get exactly M sessions; waiting callers are served first come, first
 * served.
 *
 * @example
 * const sessions = createSessionManager({ provider, maxConcurrent: 4 });
 * await sessions.withSession({ label: "job-1", network: false }, async (s) => {
 *   await s.vm.agent().ping();
 * }, { wait: true });
 */
export function createSessionManager(options: SessionManagerOptions): SessionManager {
  const { provider } = options;
  const max = options.maxConcurrent;
  if (!Number.isInteger(max) || max < 1) {
    throw new ActvmError("INVALID_CONFIG", `maxConcurrent must be a whole number ≥ 1, got ${max}`, {
      subsystem: SUBSYSTEM,
    });
  }
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const clock = options.clock ?? { now: () => Date.now() };
  const onError = options.onError ?? defaultOnError;

  const sessions = new Map<string, MutableSession>();
  const releasing = new Map<string, Promise<void>>();
  const allocating = new Set<Promise<unknown>>();
  const waiters: Waiter[] = [];
  let slotsInUse = 0;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  const counts = { created: 0, released: 0, failed: 0, releaseErrors: 0, attempts: 0 };

  const cancelled = (what: string): ActvmError =>
    new ActvmError("CANCELLED", what, { subsystem: SUBSYSTEM });

  const acquireSlot = (wait: boolean, signal?: AbortSignal): Promise<void> | void => {
    if (stopped) throw cancelled("the session manager is stopping");
    if (signal?.aborted) throw cancelled("session creation was aborted");
    if (slotsInUse < max) {
      slotsInUse++;
      return;
    }
    if (!wait) {
      throw new ActvmError("SESSION_LIMIT", `all ${max} sandbox slots are in use`, {
        subsystem: SUBSYSTEM,
        hint: "Wait for a running job to finish, or raise the concurrency limit.",
      });
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = waiters.indexOf(waiter);
        if (i >= 0) waiters.splice(i, 1);
        reject(cancelled("session creation was aborted while waiting for a slot"));
      };
      const waiter: Waiter = {
        grant() {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        refuse(err) {
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      waiters.push(waiter);
    });
  };

  const freeSlot = (): void => {
    // Hand the slot straight to the oldest waiter, so a newcomer cannot take it in between.
    const next = waiters.shift();
    if (next) next.grant();
    else slotsInUse--;
  };

  const find = (id: string): MutableSession => {
    const s = sessions.get(id);
    if (!s) throw new ActvmError("SESSION_NOT_FOUND", id, { subsystem: SUBSYSTEM });
    return s;
  };

  const createSession = async (
    spec: VmSpec,
    signal?: AbortSignal,
    createOptions: CreateSessionOptions = {},
  ): Promise<Session> => {
    await acquireSlot(createOptions.wait ?? false, signal);
    counts.attempts++;
    // Tracked until the session is registered (or its sandbox handed back), so `stop` can wait.
    const attempt = (async (): Promise<Session> => {
      let vm: Vm;
      try {
        vm = await provider.allocate(spec, signal);
      } catch (err) {
        counts.failed++;
        freeSlot();
        throw err;
      }
      if (stopped) {
        try {
          await provider.release(vm);
        } finally {
          freeSlot();
        }
        throw cancelled("the session manager stopped while the sandbox was being allocated");
      }
      const now = clock.now();
      const session: MutableSession = {
        id: `session-${randomUUID()}`,
        vm,
        spec,
        state: "active",
        createdAt: now,
        lastActivity: now,
        snapshots: [],
      };
      sessions.set(session.id, session);
      counts.created++;
      return view(session);
    })();
    allocating.add(attempt);
    try {
      return await attempt;
    } finally {
      allocating.delete(attempt);
    }
  };

  const releaseSession = async (id: string): Promise<boolean> => {
    const inFlight = releasing.get(id);
    if (inFlight) {
      await inFlight.catch(() => {});
      return false;
    }
    const s = sessions.get(id);
    if (!s) return false;
    sessions.delete(id);
    const done = (async () => {
      try {
        await provider.release(s.vm);
      } catch (err) {
        counts.releaseErrors++;
        throw err;
      } finally {
        counts.released++;
        releasing.delete(id);
        freeSlot();
      }
    })();
    releasing.set(id, done);
    await done;
    return true;
  };

  const updateState = (id: string, state: SessionState): Session => {
    const s = find(id);
    if (s.state !== state && !SESSION_TRANSITIONS[s.state].includes(state)) {
      throw new ActvmError("SESSION_STATE", `${id} cannot go from ${s.state} to ${state}`, {
        subsystem: SUBSYSTEM,
      });
    }
    s.state = state;
    s.lastActivity = clock.now();
    return view(s);
  };

  const releaseReporting = async (id: string, operation: string): Promise<boolean> => {
    try {
      return await releaseSession(id);
    } catch (err) {
      onError(err, { sessionId: id, operation });
      return true;
    }
  };

  return {
    provider,
    createSession,
    releaseSession,
    updateState,

    getSession(id) {
      const s = sessions.get(id);
      return s ? view(s) : undefined;
    },

    listSessions() {
      return [...sessions.values()].map(view);
    },

    addSnapshot(id, snapshotId) {
      const s = find(id);
      s.snapshots.push(snapshotId);
      s.lastActivity = clock.now();
      return view(s);
    },

    touch(id) {
      const s = find(id);
      s.lastActivity = clock.now();
      return view(s);
    },

    async withSession(spec, fn, opts = {}) {
      const session = await createSession(spec, opts.signal, { wait: opts.wait ?? false });
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await fn(session);
      } catch (err) {
        // The job's own error is what the caller needs; a release failure is reported aside.
        await releaseReporting(session.id, "release after a failed job");
        throw err;
      }
      await releaseSession(session.id);
      return result;
    },

    stats() {
      const byState = Object.fromEntries(SESSION_STATES.map((s) => [s, 0])) as Record<
        SessionState,
        number
      >;
      let snapshots = 0;
      for (const s of sessions.values()) {
        byState[s.state]++;
        snapshots += s.snapshots.length;
      }
      byState.created += allocating.size;
      return {
        active: sessions.size,
        total: counts.attempts,
        created: counts.created,
        released: counts.released,
        failed: counts.failed,
        releaseErrors: counts.releaseErrors,
        waiting: waiters.length,
        snapshots,
        byState,
      };
    },

    async cleanupStale() {
      const now = clock.now();
      const stale = [...sessions.values()].filter((s) => now - s.lastActivity > staleAfterMs);
      let count = 0;
      for (const s of stale) {
        if (await releaseReporting(s.id, "stale-session cleanup")) count++;
      }
      return count;
    },

    stop() {
      stopping ??= (async () => {
        stopped = true;
        for (const w of waiters.splice(0)) w.refuse(cancelled("the session manager is stopping"));
        // Allocations in flight release their own sandbox once they see `stopped`.
        await Promise.allSettled([...allocating]);
        await Promise.all(
          [...sessions.keys()].map((id) => releaseReporting(id, "release on stop")),
        );
        await Promise.allSettled([...releasing.values()]);
        // Idle sandboxes the provider keeps warm are not sessions; they go last.
        try {
          await provider.close?.();
        } catch (err) {
          onError(err, { sessionId: "", operation: "provider close on stop" });
        }
      })();
      return stopping;
    },
  };
}
