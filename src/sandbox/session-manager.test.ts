import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createHostProvider } from "./host/host-provider.ts";
import { isActvmError } from "../shared/errors.ts";
import { createSessionManager } from "./session-manager.ts";
import type { ProbeResult, Vm, VmProvider, VmSpec } from "./types.ts";

/** An in-memory provider that records what the manager asks of it. */
function recordingProvider(
  opts: { allocateMs?: number; failAllocate?: boolean; failRelease?: boolean } = {},
) {
  const live = new Set<string>();
  const released: string[] = [];
  let allocations = 0;
  let peak = 0;
  const provider: VmProvider = {
    name: "host",
    async probe(): Promise<ProbeResult> {
      return { available: true, isolation: "none", detail: "test" };
    },
    async allocate(spec: VmSpec, signal?: AbortSignal): Promise<Vm> {
      allocations++;
      await new Promise((r) => setTimeout(r, opts.allocateMs ?? 5));
      if (signal?.aborted) throw new Error("aborted");
      if (opts.failAllocate) throw new Error("no capacity");
      const id = `${spec.label}-${allocations}`;
      live.add(id);
      peak = Math.max(peak, live.size);
      return {
        id,
        backend: "host",
        paths: { workspace: "/w", temp: "/t", toolCache: "/c", actions: "/a", home: "/h" },
        agent() {
          throw new Error("no agent in this test");
        },
      };
    },
    async release(vm: Vm): Promise<void> {
      await new Promise((r) => setTimeout(r, 2));
      live.delete(vm.id);
      released.push(vm.id);
      if (opts.failRelease) throw new Error("release exploded");
    },
  };
  return {
    provider,
    live,
    released,
    get allocations() {
      return allocations;
    },
    get peak() {
      return peak;
    },
  };
}

const spec: VmSpec = { label: "job", network: false };

describe("createSessionManager", () => {
  it("creates sessions in the active state and finds them by id", async () => {
    const p = recordingProvider();
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 2 });
    const s = await m.createSession(spec);
    expect(s.state).toBe("active");
    expect(s.id).toMatch(/^session-/);
    expect(m.getSession(s.id)?.vm.id).toBe(s.vm.id);
    expect(m.getSession("session-unknown")).toBeUndefined();
  });

  it("gives exactly maxConcurrent of 50 simultaneous callers a session and rejects the rest", async () => {
    const p = recordingProvider({ allocateMs: 20 });
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 3 });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => m.createSession(spec)),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    const rejected = results.filter((r) => r.status === "rejected");
    expect(ok).toHaveLength(3);
    expect(rejected).toHaveLength(47);
    for (const r of rejected) expect(isActvmError(r.reason, "SESSION_LIMIT")).toBe(true);
    expect(p.allocations).toBe(3);
    expect(m.stats().active).toBe(3);
  });

  it("lets waiting callers in one by one as slots free up, never exceeding the limit", async () => {
    const p = recordingProvider({ allocateMs: 3 });
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 2 });
    let running = 0;
    let peakRunning = 0;
    const jobs = Array.from({ length: 10 }, (_, i) =>
      m.withSession(
        { label: `job-${i}`, network: false },
        async () => {
          running++;
          peakRunning = Math.max(peakRunning, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
          return i;
        },
        { wait: true },
      ),
    );
    expect(await Promise.all(jobs)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peakRunning).toBe(2);
    expect(p.peak).toBeLessThanOrEqual(2);
    expect(p.released).toHaveLength(10);
    expect(m.stats()).toMatchObject({ active: 0, created: 10, released: 10, waiting: 0 });
  });

  it("serves waiters first come, first served", async () => {
    const p = recordingProvider({ allocateMs: 1 });
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 1 });
    const first = await m.createSession(spec);
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) =>
      m
        .createSession({ label: `w${n}`, network: false }, undefined, { wait: true })
        .then(async (s) => {
          order.push(n);
          await m.releaseSession(s.id);
        }),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect(m.stats().waiting).toBe(3);
    await m.releaseSession(first.id);
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3]);
  });

  it("fails a waiting caller with CANCELLED when its signal aborts, and frees its place in line", async () => {
    const p = recordingProvider();
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 1 });
    const held = await m.createSession(spec);
    const ac = new AbortController();
    const waiting = m.createSession(spec, ac.signal, { wait: true });
    await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await expect(waiting).rejects.toSatisfy((e: unknown) => isActvmError(e, "CANCELLED"));
    expect(m.stats().waiting).toBe(0);
    await m.releaseSession(held.id);
    // The aborted waiter must not have swallowed the freed slot.
    const next = await m.createSession(spec);
    expect(next.state).toBe("active");
  });

  it("rejects immediately when the signal is already aborted, without allocating", async () => {
    const p = recordingProvider();
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 1 });
    await expect(m.createSession(spec, AbortSignal.abort())).rejects.toSatisfy((e: unknown) =>
      isActvmError(e, "CANCELLED"),
    );
    expect(p.allocations).toBe(0);
  });

  it("frees the slot and counts a failure when the provider cannot allocate", async () => {
    const p = recordingProvider({ failAllocate: true });
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 1 });
    await expect(m.createSession(spec)).rejects.toThrow("no capacity");
    await expect(m.createSession(spec)).rejects.toThrow("no capacity");
    expect(m.stats()).toMatchObject({ failed: 2, created: 0, active: 0, total: 2 });
  });

  it("validates state transitions and rejects leaving a final state", async () => {
    const p = recordingProvider();
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 1 });
    const s = await m.createSession(spec);
    expect(m.updateState(s.id, "executing").state).toBe("executing");
    expect(m.updateState(s.id, "active").state).toBe("active");
    expect(m.updateState(s.id, "completed").state).toBe("completed");
    expect(() => m.updateState(s.id, "executing")).toThrow(
      expect.objectContaining({ code: "SESSION_STATE" }),
    );
    expect(() => m.updateState("session-nope", "active")).toThrow(
      expect.objectContaining({ code: "SESSION_NOT_FOUND" }),
    );
  });

  it("releases the sandbox once; a second release is a no-op that resolves false", async () => {
    const p = recordingProvider();
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 1 });
    const s = await m.createSession(spec);
    const [a, b] = await Promise.all([m.releaseSession(s.id), m.releaseSession(s.id)]);
    expect([a, b].sort()).toEqual([false, true]);
    expect(await m.releaseSession(s.id)).toBe(false);
    expect(p.released).toEqual([s.vm.id]);
    expect(m.getSession(s.id)).toBeUndefined();
  });

  it("frees the slot even when the provider's release throws, and rethrows the error", async () => {
    const p = recordingProvider({ failRelease: true });
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 1 });
    const s = await m.createSession(spec);
    await expect(m.releaseSession(s.id)).rejects.toThrow("release exploded");
    expect(m.stats()).toMatchObject({ active: 0, released: 1, releaseErrors: 1 });
    const again = await m.createSession(spec);
    expect(again.state).toBe("active");
  });

  it("withSession releases the sandbox when the function throws and rethrows the function's error", async () => {
    const errors: string[] = [];
    const p = recordingProvider({ failRelease: true });
    const m = createSessionManager({
      provider: p.provider,
      maxConcurrent: 1,
      onError: (err, ctx) => errors.push(`${ctx.operation}: ${(err as Error).message}`),
    });
    let seen: string | undefined;
    await expect(
      m.withSession(spec, async (s) => {
        seen = s.vm.id;
        throw new Error("step failed");
      }),
    ).rejects.toThrow("step failed");
    expect(p.released).toEqual([seen]);
    expect(errors).toEqual(["release after a failed job: release exploded"]);
    expect(m.stats().active).toBe(0);
  });

  it("withSession returns the function's result and releases the session afterwards", async () => {
    const p = recordingProvider();
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 1 });
    let liveDuringJob = 0;
    const vmId = await m.withSession(spec, async (s) => {
      liveDuringJob = p.live.size;
      return s.vm.id;
    });
    expect(liveDuringJob).toBe(1);
    expect(p.released).toEqual([vmId]);
    expect(m.stats()).toMatchObject({ active: 0, released: 1 });
  });

  it("reports stats per state, snapshots and lifetime counters", async () => {
    const p = recordingProvider();
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 5 });
    const a = await m.createSession(spec);
    const b = await m.createSession(spec);
    await m.createSession(spec);
    m.updateState(a.id, "executing");
    m.addSnapshot(b.id, "snap-1");
    m.addSnapshot(b.id, "snap-2");
    m.updateState(b.id, "failed");
    expect(m.getSession(b.id)?.snapshots).toEqual(["snap-1", "snap-2"]);
    await m.releaseSession(a.id);
    expect(m.stats()).toEqual({
      active: 2,
      total: 3,
      created: 3,
      released: 1,
      failed: 0,
      releaseErrors: 0,
      waiting: 0,
      snapshots: 2,
      byState: { created: 0, active: 1, executing: 0, completed: 0, failed: 1 },
    });
  });

  it("counts allocations in progress under byState.created", async () => {
    const p = recordingProvider({ allocateMs: 30 });
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 2 });
    const pending = m.createSession(spec);
    await new Promise((r) => setTimeout(r, 5));
    expect(m.stats().byState.created).toBe(1);
    await pending;
    expect(m.stats().byState).toMatchObject({ created: 0, active: 1 });
  });

  it("releases only sessions idle longer than staleAfterMs", async () => {
    let now = 1_000;
    const p = recordingProvider();
    const m = createSessionManager({
      provider: p.provider,
      maxConcurrent: 3,
      staleAfterMs: 100,
      clock: { now: () => now },
    });
    const idle = await m.createSession(spec);
    const busy = await m.createSession(spec);
    now += 80;
    m.touch(busy.id);
    now += 50;
    expect(await m.cleanupStale()).toBe(1);
    expect(m.getSession(idle.id)).toBeUndefined();
    expect(m.getSession(busy.id)).toBeDefined();
    expect(p.released).toEqual([idle.vm.id]);
  });

  it("stop releases every session, fails waiters and refuses new sessions", async () => {
    const p = recordingProvider({ allocateMs: 10 });
    const m = createSessionManager({ provider: p.provider, maxConcurrent: 2 });
    await m.createSession(spec);
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => "created",
        (e: unknown) => e,
      );
    const inFlight = outcome(m.createSession(spec));
    const waiter = outcome(m.createSession(spec, undefined, { wait: true }));
    await new Promise((r) => setTimeout(r, 2));
    await m.stop();
    expect(isActvmError(await waiter, "CANCELLED")).toBe(true);
    expect(isActvmError(await inFlight, "CANCELLED")).toBe(true);
    expect(p.live.size).toBe(0);
    expect(p.released).toHaveLength(2);
    await expect(m.createSession(spec)).rejects.toSatisfy((e: unknown) =>
      isActvmError(e, "CANCELLED"),
    );
  });

  it("stop closes the provider after releasing every session, and reports a failing close", async () => {
    const p = recordingProvider();
    const order: string[] = [];
    const errors: string[] = [];
    const provider: VmProvider = {
      ...p.provider,
      release: async (vm) => {
        await p.provider.release(vm);
        order.push(`release ${vm.id}`);
      },
      close: async () => {
        order.push("close");
        throw new Error("close exploded");
      },
    };
    const m = createSessionManager({
      provider,
      maxConcurrent: 2,
      onError: (err, ctx) => errors.push(`${ctx.operation}: ${(err as Error).message}`),
    });
    await m.createSession(spec);
    await m.stop();
    expect(order).toEqual(["release job-1", "close"]);
    expect(errors).toEqual(["provider close on stop: close exploded"]);
  });

  it("refuses a limit below one", () => {
    const p = recordingProvider();
    expect(() => createSessionManager({ provider: p.provider, maxConcurrent: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
  });
});

describe("createSessionManager with the host provider", () => {
  const root = mkdtempSync(join(tmpdir(), "actvm-sessions-"));
  const baseDir = join(root, "vms");
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("runs a job in a real sandbox and removes it afterwards, also when the job throws", async () => {
    const m = createSessionManager({
      provider: createHostProvider({ baseDir }),
      maxConcurrent: 2,
    });
    const out = await m.withSession(spec, async (s) => {
      const chunks: Buffer[] = [];
      const h = s.vm.agent().exec(
        {
          argv: ["sh", "-c", "echo hi > f; cat f"],
          cwd: s.vm.paths.workspace,
          env: { PATH: "/usr/bin:/bin" },
        },
        { onStdout: (c) => chunks.push(c) },
      );
      await h.result;
      return Buffer.concat(chunks).toString();
    });
    expect(out).toBe("hi\n");
    let workspace = "";
    await expect(
      m.withSession(spec, async (s) => {
        workspace = s.vm.paths.workspace;
        throw new Error("job failed");
      }),
    ).rejects.toThrow("job failed");
    expect(existsSync(workspace)).toBe(false);
    expect(readdirSync(baseDir)).toEqual([]);
    expect(m.stats()).toMatchObject({ active: 0, created: 2, released: 2 });
  });
});
