import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findNeedsCycle } from "./find-needs-cycle.ts";

describe("findNeedsCycle", () => {
  it("returns undefined for an acyclic graph and ignores unknown needs", () => {
    expect(
      findNeedsCycle([
        { id: "a", needs: [] },
        { id: "b", needs: ["a", "ghost"] },
      ]),
    ).toBeUndefined();
  });

  it("finds a self-need", () => {
    expect(findNeedsCycle([{ id: "a", needs: ["a"] }])).toEqual(["a", "a"]);
  });

  it("returns a real cycle whenever one exists, and none otherwise", () => {
    const graph = fc
      .integer({ min: 1, max: 12 })
      .chain((n) =>
        fc.array(fc.array(fc.nat(n - 1), { maxLength: 3 }), { minLength: n, maxLength: n }),
      );
    fc.assert(
      fc.property(graph, (adj) => {
        const jobs = adj.map((ns, i) => ({ id: `j${i}`, needs: ns.map((x) => `j${x}`) }));
        const cycle = findNeedsCycle(jobs);
        // Kahn's algorithm decides independently whether the graph is acyclic.
        const indeg = new Map(jobs.map((j) => [j.id, j.needs.length]));
        const ready = jobs.filter((j) => j.needs.length === 0).map((j) => j.id);
        let seen = 0;
        while (ready.length) {
          const id = ready.pop()!;
          seen++;
          for (const j of jobs)
            for (const n of j.needs)
              if (n === id) {
                indeg.set(j.id, indeg.get(j.id)! - 1);
                if (indeg.get(j.id) === 0) ready.push(j.id);
              }
        }
        expect(cycle !== undefined).toBe(seen < jobs.length);
        if (cycle) {
          expect(cycle[0]).toBe(cycle[cycle.length - 1]);
          for (let i = 0; i + 1 < cycle.length; i++) {
            expect(jobs.find((j) => j.id === cycle[i])!.needs).toContain(cycle[i + 1]);
          }
        }
      }),
    );
  });
});
