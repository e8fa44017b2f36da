import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../run/index.ts";
import { isActvmError } from "../shared/errors.ts";
import { createLogger } from "../shared/logger.ts";
import { ABANDONED_RUN_ERROR, openStore, type LogLine, type Store } from "./index.ts";

let dir: string;
const opened: Store[] = [];
const quietLog = createLogger({ level: "error", sink: () => {} });

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "actvm-store-"));
});

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

async function open(opts: Parameters<typeof openStore>[0] = {}): Promise<Store> {
  const s = await openStore({ path: path.join(dir, "actvm.db"), log: quietLog, ...opts });
  opened.push(s);
  return s;
}

function runStarted(runId: string, extra: Partial<RunEvent & { type: "run.started" }> = {}) {
  return {
    type: "run.started",
    runId,
    time: 1_000,
    workflow: "CI",
    workflowFile: ".github/workflows/ci.yml",
    event: "push",
    repository: "octo/app",
    sha: "0123abcd",
    ref: "refs/heads/main",
    backend: "bwrap",
    ...extra,
  } as RunEvent;
}

function output(runId: string, jobKey: string, stepIndex: number, text: string): RunEvent {
  return {
    type: "step.output",
    runId,
    time: 2_000,
    jobKey,
    stepIndex,
    stream: "stdout",
    text,
    group: 0,
  };
}

async function collect(it: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of it) out.push(l);
  return out;
}

describe("openStore", () => {
  it("opens the same file twice without re-running migrations or losing data", async () => {
    const file = path.join(dir, "actvm.db");
    const a = await openStore({ path: file, log: quietLog });
    a.recordEvent(runStarted("r_one"));
    await a.close();
    const b = await open();
    const run = await b.getRun("r_one");
    expect(run?.workflow).toBe("CI");
    const raw = new BetterSqlite3(file, { readonly: true });
    const names = raw.prepare("select name from kysely_migration").all() as { name: string }[];
    const mode = raw.pragma("journal_mode", { simple: true });
    raw.close();
    expect(names.map((n) => n.name)).toEqual(["001-initial"]);
    expect(mode).toBe("wal");
  });

  it("refuses a Postgres URL with a clear message", async () => {
    const err = await openStore({ url: "postgres://u:p@db/actvm" }).catch((e: unknown) => e);
    expect(isActvmError(err, "INVALID_CONFIG")).toBe(true);
    expect((err as Error).message).toMatch(/PostgreSQL is not supported yet/);
  });

  it("opens a sqlite: URL and creates the missing directory", async () => {
    const file = path.join(dir, "nested", "deeper", "x.db");
    const s = await openStore({ url: `sqlite://${file}`, log: quietLog });
    opened.push(s);
    expect(await s.nextRunNumber("o/r", "w.yml")).toBe(1);
  });
});

describe("recording a run", () => {
  it("records a whole run from its events and reads it back", async () => {
    const s = await open();
    const id = "r_whole";
    const events: RunEvent[] = [
      runStarted(id, { runNumber: 7 }),
      {
        type: "job.queued",
        runId: id,
        time: 1_001,
        jobKey: "build",
        jobId: "build",
        name: "Build",
        needs: [],
      },
      {
        type: "job.queued",
        runId: id,
        time: 1_002,
        jobKey: "test:1",
        jobId: "test",
        name: "Test (20)",
        matrix: { node: 20 },
        needs: ["build"],
      },
      {
        type: "job.started",
        runId: id,
        time: 1_010,
        jobKey: "build",
        backend: "bwrap",
        vmId: "vm-1",
      },
      {
        type: "step.started",
        runId: id,
        time: 1_020,
        jobKey: "build",
        stepIndex: 0,
        stepId: "compile",
        name: "Compile",
      },
      output(id, "build", 0, "compiling"),
      {
        type: "step.annotation",
        runId: id,
        time: 1_030,
        jobKey: "build",
        stepIndex: 0,
        annotation: {
          level: "warning",
          message: "deprecated API",
          file: "src/a.ts",
          line: 3,
          col: 5,
          title: "Deprecation",
        },
      },
      {
        type: "step.completed",
        runId: id,
        time: 1_100,
        jobKey: "build",
        stepIndex: 0,
        stepId: "compile",
        name: "Compile",
        outcome: "failure",
        conclusion: "success",
        exitCode: 2,
        durationMs: 80,
        timedOut: false,
        command: "make",
        summary: "## built",
      },
      {
        type: "step.completed",
        runId: id,
        time: 1_101,
        jobKey: "build",
        stepIndex: 1,
        stepId: "skipped",
        name: "Never ran",
        outcome: "skipped",
        conclusion: "skipped",
        exitCode: null,
        durationMs: 0,
        timedOut: false,
        command: "actions/checkout@v4",
      },
      {
        type: "job.completed",
        runId: id,
        time: 1_200,
        jobKey: "build",
        result: "success",
        outputs: { v: "1.2" },
        durationMs: 190,
      },
      {
        type: "job.completed",
        runId: id,
        time: 1_300,
        jobKey: "test:1",
        result: "skipped",
        outputs: {},
        durationMs: 0,
        error: "needs failed",
      },
      { type: "run.completed", runId: id, time: 1_400, result: "success", durationMs: 400 },
    ];
    for (const e of events) s.recordEvent(e);
    await s.flush();

    const run = await s.getRun(id);
    expect(run).toMatchObject({
      id,
      runNumber: 7,
      workflow: "CI",
      repository: "octo/app",
      status: "completed",
      result: "success",
      startedAt: 1_000,
      completedAt: 1_400,
      durationMs: 400,
      ownerPid: process.pid,
    });
    expect(run?.jobs.map((j) => j.jobKey)).toEqual(["build", "test:1"]);
    const [build, test] = run?.jobs ?? [];
    expect(build).toMatchObject({
      status: "completed",
      result: "success",
      outputs: { v: "1.2" },
      backend: "bwrap",
      vmId: "vm-1",
      startedAt: 1_010,
      durationMs: 190,
    });
    expect(test).toMatchObject({
      matrix: { node: 20 },
      needs: ["build"],
      error: "needs failed",
      result: "skipped",
    });
    expect(build?.steps).toHaveLength(2);
    expect(build?.steps[0]).toMatchObject({
      stepId: "compile",
      status: "completed",
      outcome: "failure",
      conclusion: "success",
      exitCode: 2,
      timedOut: false,
      command: "make",
      summary: "## built",
      startedAt: 1_020,
      logBytes: "compiling\n".length,
      logDroppedBytes: 0,
    });
    expect(build?.steps[1]).toMatchObject({
      stepIndex: 1,
      conclusion: "skipped",
      exitCode: null,
      startedAt: 1_101,
    });

    const logs = await collect(s.getLogs(id));
    expect(logs.map((l) => l.text)).toEqual(["compiling"]);
    expect(await s.getAnnotations(id)).toEqual([
      expect.objectContaining({
        level: "warning",
        message: "deprecated API",
        file: "src/a.ts",
        line: 3,
        col: 5,
        title: "Deprecation",
        jobKey: "build",
        stepIndex: 0,
      }),
    ]);
  });

  it("shows a run as in progress to another process before it completes", async () => {
    const writer = await open();
    writer.recordEvent(runStarted("r_live"));
    writer.recordEvent({
      type: "job.started",
      runId: "r_live",
      time: 1_100,
      jobKey: "b",
      backend: "host",
      vmId: "v",
    });
    // No flush: lifecycle events are written promptly on their own.
    const reader = await open();
    await expect
      .poll(async () => (await reader.getRun("r_live"))?.jobs[0]?.status, { timeout: 2_000 })
      .toBe("in_progress");
    expect((await reader.getRun("r_live"))?.status).toBe("in_progress");
  });

  it("drops events of a run that was never started without losing the others", async () => {
    const s = await open();
    s.recordEvent(output("r_ghost", "j", 0, "lost"));
    s.recordEvent(runStarted("r_real"));
    s.recordEvent(output("r_real", "j", 0, "kept"));
    await s.flush();
    expect((await collect(s.getLogs("r_real"))).map((l) => l.text)).toEqual(["kept"]);
    expect(await s.getRun("r_ghost")).toBeUndefined();
  });

  it("rejects use after close and ignores late events", async () => {
    const s = await openStore({ path: path.join(dir, "c.db"), log: quietLog });
    await s.close();
    expect(() => s.recordEvent(runStarted("r_late"))).not.toThrow();
    await expect(s.listRuns()).rejects.toThrow(/closed/);
  });
});

describe("run numbers", () => {
  it("increment per repository and workflow file, independently of each other", async () => {
    const s = await open();
    expect(await s.nextRunNumber("octo/app", "ci.yml")).toBe(1);
    expect(await s.nextRunNumber("octo/app", "ci.yml")).toBe(2);
    expect(await s.nextRunNumber("octo/app", "release.yml")).toBe(1);
    expect(await s.nextRunNumber("octo/other", "ci.yml")).toBe(1);
    expect(await s.nextRunNumber("octo/app", "ci.yml")).toBe(3);
  });

  it("are assigned at run.started when the caller did not take one, and never reused", async () => {
    const s = await open();
    s.recordEvent(runStarted("r_a"));
    s.recordEvent(runStarted("r_b"));
    await s.flush();
    expect((await s.getRun("r_a"))?.runNumber).toBe(1);
    expect((await s.getRun("r_b"))?.runNumber).toBe(2);
    s.recordEvent(runStarted("r_c", { runNumber: 10 }));
    await s.flush();
    expect(await s.nextRunNumber("octo/app", ".github/workflows/ci.yml")).toBe(11);
  });
});

describe("logs", () => {
  it("keeps the order of 10k lines interleaved across jobs and filters by job and step", async () => {
    const s = await open({ flushIntervalMs: 5 });
    const id = "r_many";
    s.recordEvent(runStarted(id));
    const expected: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const job = ["a", "b", "c"][i % 3] ?? "a";
      const text = `${job} line ${i}`;
      expected.push(text);
      s.recordEvent(output(id, job, i % 2, text));
      // Let timer flushes interleave with recording, as they do in a real run.
      if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    s.recordEvent({
      type: "run.completed",
      runId: id,
      time: 3_000,
      result: "success",
      durationMs: 1,
    });
    await s.flush();
    const all = await collect(s.getLogs(id));
    expect(all.map((l) => l.text)).toEqual(expected);
    const seqs = all.map((l) => l.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    const b1 = await collect(s.getLogs(id, { jobKey: "b", stepIndex: 1 }));
    expect(b1.map((l) => l.text)).toEqual(expected.filter((_, i) => i % 3 === 1 && i % 2 === 1));
    const tail = await collect(s.getLogs(id, { afterSeq: all[9_997]?.seq }));
    expect(tail.map((l) => l.text)).toEqual(expected.slice(9_998));
  });

  it("stops storing a step's output at the cap and stores exactly one marker", async () => {
    const s = await open({ stepLogMaxBytes: 100 });
    const id = "r_cap";
    s.recordEvent(runStarted(id));
    for (let i = 0; i < 50; i++) s.recordEvent(output(id, "j", 0, `0123456789-${i}`));
    // Another step has its own budget.
    s.recordEvent(output(id, "j", 1, "other step"));
    s.recordEvent({
      type: "step.completed",
      runId: id,
      time: 3_000,
      jobKey: "j",
      stepIndex: 0,
      stepId: "s",
      name: "S",
      outcome: "success",
      conclusion: "success",
      exitCode: 0,
      durationMs: 1,
      timedOut: false,
      command: "yes",
    });
    await s.flush();
    const step0 = await collect(s.getLogs(id, { jobKey: "j", stepIndex: 0 }));
    const markers = step0.filter((l) => l.stream === "system");
    expect(markers).toHaveLength(1);
    expect(markers[0]?.text).toMatch(/output truncated.*100 bytes/);
    expect(step0.at(-1)).toBe(markers[0]);
    const stored = step0.filter((l) => l.stream === "stdout");
    const storedBytes = stored.reduce((n, l) => n + Buffer.byteLength(l.text) + 1, 0);
    expect(storedBytes).toBeLessThanOrEqual(100);
    expect(stored[0]?.text).toBe("0123456789-0");
    const step = (await s.getRun(id))?.jobs[0]?.steps[0];
    expect(step?.logBytes).toBe(storedBytes);
    expect(step?.logDroppedBytes).toBeGreaterThan(0);
    expect((await collect(s.getLogs(id, { stepIndex: 1 }))).map((l) => l.text)).toEqual([
      "other step",
    ]);
  });

  it("keeps the head of one huge line instead of the whole of it", async () => {
    const s = await open({ stepLogMaxBytes: 1024 });
    s.recordEvent(runStarted("r_huge"));
    s.recordEvent(output("r_huge", "j", 0, "x".repeat(5 * 1024 * 1024)));
    await s.flush();
    const lines = await collect(s.getLogs("r_huge"));
    expect(lines).toHaveLength(2);
    expect(lines[0]?.text).toBe("x".repeat(1023));
    expect(lines[1]?.stream).toBe("system");
  });
});

describe("finding runs", () => {
  it("finds a run by a unique prefix and reports an ambiguous one", async () => {
    const s = await open();
    s.recordEvent(runStarted("r_01abc"));
    s.recordEvent(runStarted("r_01abd"));
    s.recordEvent(runStarted("rX01zzz"));
    await s.flush();
    expect((await s.getRun("r_01abc"))?.id).toBe("r_01abc");
    expect((await s.getRun("r_01abd"))?.id).toBe("r_01abd");
    // "_" must not act as a LIKE wildcard: "r_01z" matches nothing, not "rX01zzz".
    expect(await s.getRun("r_01z")).toBeUndefined();
    const err = await s.getRun("r_01ab").catch((e: unknown) => e);
    expect(isActvmError(err, "USAGE")).toBe(true);
    expect((err as Error).message).toMatch(
      /ambiguous.*r_01abc.*r_01abd|ambiguous.*r_01abd.*r_01abc/,
    );
    expect(await s.getRun("r_nope")).toBeUndefined();
  });

  it("lists runs newest first with filters and a limit", async () => {
    const s = await open();
    s.recordEvent(runStarted("r_1", { time: 1 }));
    s.recordEvent(runStarted("r_2", { time: 2, workflow: "Release", workflowFile: "release.yml" }));
    s.recordEvent(runStarted("r_3", { time: 3 }));
    s.recordEvent({
      type: "run.completed",
      runId: "r_1",
      time: 10,
      result: "failure",
      durationMs: 9,
    });
    await s.flush();
    expect((await s.listRuns()).map((r) => r.id)).toEqual(["r_3", "r_2", "r_1"]);
    expect((await s.listRuns({ limit: 2 })).map((r) => r.id)).toEqual(["r_3", "r_2"]);
    expect((await s.listRuns({ workflow: "Release" })).map((r) => r.id)).toEqual(["r_2"]);
    expect((await s.listRuns({ workflow: "release.yml" })).map((r) => r.id)).toEqual(["r_2"]);
    expect((await s.listRuns({ status: "in_progress" })).map((r) => r.id)).toEqual(["r_3", "r_2"]);
    expect((await s.listRuns({ result: "failure" })).map((r) => r.id)).toEqual(["r_1"]);
  });
});

describe("abandoned runs", () => {
  it("cancels in-progress runs whose owner process is dead and leaves live ones alone", async () => {
    const dead = spawn(process.execPath, ["-e", ""]);
    const deadPid = await new Promise<number>((resolve) =>
      dead.on("exit", () => resolve(dead.pid ?? -1)),
    );
    const crashed = await open({ ownerPid: deadPid });
    crashed.recordEvent(runStarted("r_crashed"));
    crashed.recordEvent({
      type: "job.started",
      runId: "r_crashed",
      time: 1_100,
      jobKey: "b",
      backend: "host",
      vmId: "v",
    });
    crashed.recordEvent({
      type: "step.started",
      runId: "r_crashed",
      time: 1_200,
      jobKey: "b",
      stepIndex: 0,
      stepId: "s",
      name: "S",
    });
    await crashed.flush();
    const current = await open({ now: () => 5_000 });
    current.recordEvent(runStarted("r_mine"));
    await current.flush();

    expect(await current.reconcileAbandonedRuns()).toEqual(["r_crashed"]);
    const run = await current.getRun("r_crashed");
    expect(run).toMatchObject({
      status: "completed",
      result: "cancelled",
      error: ABANDONED_RUN_ERROR,
      completedAt: 5_000,
      durationMs: 4_000,
    });
    expect(run?.jobs[0]).toMatchObject({ status: "completed", result: "cancelled" });
    expect(run?.jobs[0]?.steps[0]).toMatchObject({ status: "completed", conclusion: "cancelled" });
    expect((await current.getRun("r_mine"))?.status).toBe("in_progress");
    expect(await current.reconcileAbandonedRuns()).toEqual([]);
  });
});

describe("concurrent writers", () => {
  it("loses no rows and never waits on itself when two stores in one process share a file", async () => {
    const warnings: string[] = [];
    const log = createLogger({ level: "warn", sink: (l) => warnings.push(l) });
    const a = await open({ flushIntervalMs: 1, log, busyTimeoutMs: 2_000 });
    const b = await open({ flushIntervalMs: 1, log, busyTimeoutMs: 2_000 });
    for (const [s, tag] of [
      [a, "a"],
      [b, "b"],
    ] as const) {
      for (let r = 0; r < 20; r++) {
        const id = `r_${tag}${r}`;
        s.recordEvent(runStarted(id));
        for (let i = 0; i < 100; i++) s.recordEvent(output(id, "j", 0, `${tag}${r}-${i}`));
        s.recordEvent({
          type: "run.completed",
          runId: id,
          time: 2,
          result: "success",
          durationMs: 1,
        });
      }
    }
    // Both drains start in the same tick, so their transactions would interleave unguarded.
    await Promise.all([a.flush(), b.flush()]);
    // A busy wait inside one thread would stall for the busy timeout and log a retry.
    expect(warnings).toEqual([]);
    const runs = await a.listRuns({ limit: 1000 });
    expect(runs).toHaveLength(40);
    expect(new Set(runs.map((r) => r.runNumber)).size).toBe(40);
    for (const id of ["r_a7", "r_b19"]) expect(await collect(b.getLogs(id))).toHaveLength(100);
  });

  it("loses no rows when two processes write the same file at once", async () => {
    const file = path.join(dir, "shared.db");
    const storeModule = fileURLToPath(new URL("./index.ts", import.meta.url));
    const script = path.join(dir, "writer.mts");
    writeFileSync(
      script,
      `import { openStore } from ${JSON.stringify(storeModule)};
const [file, tag] = process.argv.slice(2);
const s = await openStore({ path: file, flushIntervalMs: 1 });
for (let r = 0; r < 30; r++) {
  const runId = "r_" + tag + r;
  const n = await s.nextRunNumber("octo/app", "ci.yml");
  s.recordEvent({ type: "run.started", runId, time: r, workflow: "CI", workflowFile: "ci.yml", event: "push",
    repository: "octo/app", sha: "x", ref: "main", backend: "host", runNumber: n });
  for (let i = 0; i < 200; i++)
    s.recordEvent({ type: "step.output", runId, time: r, jobKey: "j", stepIndex: 0, stream: "stdout", text: tag + i, group: 0 });
  s.recordEvent({ type: "run.completed", runId, time: r, result: "success", durationMs: 1 });
  await new Promise((res) => setTimeout(res, 1));
}
await s.close();
`,
    );
    const tsx = path.join(
      fileURLToPath(new URL("../../", import.meta.url)),
      "node_modules",
      "tsx",
      "dist",
      "esm",
      "index.mjs",
    );
    const run = (tag: string) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", tsx, script, file, tag], {
          stdio: ["ignore", "inherit", "pipe"],
        });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`writer ${tag} exited ${code}: ${stderr}`)),
        );
      });
    await Promise.all([run("p"), run("q")]);
    const s = await openStore({ path: file, log: quietLog });
    opened.push(s);
    const runs = await s.listRuns({ limit: 1000 });
    expect(runs).toHaveLength(60);
    expect(runs.map((r) => r.runNumber).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    let lines = 0;
    for (const r of runs) lines += (await collect(s.getLogs(r.id))).length;
    expect(lines).toBe(60 * 200);
  });
});
