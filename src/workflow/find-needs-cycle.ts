/**
 * Finds one dependency cycle among jobs, returned as the job ids along it with the first id
 * repeated at the end (`["a", "b", "a"]`), or undefined when the graph is acyclic. Needs that
 * name unknown jobs are ignored here; they are reported elsewhere.
 */
export function findNeedsCycle(
  jobs: readonly { id: string; needs: readonly string[] }[],
): string[] | undefined {
  const needs = new Map(jobs.map((j) => [j.id, j.needs] as const));
  const state = new Map<string, "active" | "done">();
  for (const start of needs.keys()) {
    if (state.has(start)) continue;
    // Iterative DFS keeps the current path explicitly, so a cycle is read straight off it.
    const path: string[] = [];
    const stack: { id: string; next: number }[] = [{ id: start, next: 0 }];
    state.set(start, "active");
    path.push(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const deps = needs.get(top.id) ?? [];
      if (top.next >= deps.length) {
        state.set(top.id, "done");
        stack.pop();
        path.pop();
        continue;
      }
      const dep = deps[top.next++]!;
      if (!needs.has(dep)) continue;
      const s = state.get(dep);
      if (s === "active") return [...path.slice(path.indexOf(dep)), dep];
      if (s === "done") continue;
      state.set(dep, "active");
      path.push(dep);
      stack.push({ id: dep, next: 0 });
    }
  }
  return undefined;
}
