import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JobDef, WorkflowDef } from "./model.ts";
import { planJobOrder } from "./plan-job-order.ts";

const job = (id: string, needs: string[] = []): JobDef => ({
  id,
  needs,
  if: "success()",
  defaults: {},
  steps: [],
  location: { file: "w.yml", line: 1, col: 1 },
});
const wf = (...jobs: JobDef[]): WorkflowDef => ({
  path: "/w.yml",
  file: "w.yml",
  name: "w",
  events: {},
  defaults: {},
  jobs,
});

describe("planJobOrder", () => {
  it("puts each job after everything it needs, keeping file order within a level", () => {
    const w = wf(
      job("lint"),
      job("build"),
      job("test", ["build"]),
      job("deploy", ["test", "lint"]),
      job("docs"),
    );
    expect(planJobOrder(w).value).toEqual([["lint", "build", "docs"], ["test"], ["deploy"]]);
  });

  it("plans only the selected jobs and their transitive needs", () => {
    const w = wf(job("setup"), job("build", ["setup"]), job("test", ["build"]), job("other"));
    expect(planJobOrder(w, ["test"]).value).toEqual([["setup"], ["build"], ["test"]]);
  });

  it("reports an unknown selected job with the job list as hint", () => {
    const r = planJobOrder(wf(job("a"), job("b")), ["c"]);
    expect(r.value).toBeUndefined();
    expect(r.diagnostics[0]).toMatchObject({ field: "-j", hint: "jobs are: a, b" });
  });

  it("reports a cycle naming its jobs", () => {
    const r = planJobOrder(wf(job("a", ["c"]), job("b", ["a"]), job("c", ["b"])));
    expect(r.value).toBeUndefined();
    expect(r.diagnostics[0]!.message).toMatch(/a → c → b → a/);
  });

  it("reports needs on unknown jobs", () => {
    const r = planJobOrder(wf(job("a", ["ghost"])));
    expect(r.value).toBeUndefined();
    expect(r.diagnostics[0]!.message).toContain("ghost");
  });

  it("orders any acyclic graph so that needs come in strictly earlier levels", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 25 }),
        (needsIdx) => {
          // Needs only point to earlier jobs, so the graph is acyclic by construction.
          const jobs = needsIdx.map((ns, i) =>
            job(`j${i}`, i === 0 ? [] : [...new Set(ns.map((n) => `j${n % i}`))]),
          );
          const levels = planJobOrder(wf(...jobs)).value!;
          const levelOf = new Map(levels.flatMap((l, i) => l.map((id) => [id, i] as const)));
          expect(levelOf.size).toBe(jobs.length);
          for (const j of jobs)
            for (const n of j.needs) expect(levelOf.get(n)!).toBeLessThan(levelOf.get(j.id)!);
        },
      ),
    );
  });
});
