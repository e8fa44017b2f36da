import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEventPayload } from "./load-event-payload.ts";
import { mergeEventPayload } from "./merge-event-payload.ts";

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "actvm-event-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(content: string): string {
  const p = join(dir, `event${++n}.json`);
  writeFileSync(p, content);
  return p;
}

describe("loadEventPayload", () => {
  it("reads a JSON object", async () => {
    const p = file(
      '\ufeff{"action": "opened", "number": 7, "pull_request": {"head": {"ref": "x"}}}',
    );
    const r = await loadEventPayload(p);
    expect(r.diagnostics).toEqual([]);
    expect(r.value).toEqual({ action: "opened", number: 7, pull_request: { head: { ref: "x" } } });
  });

  it("locates a JSON syntax error by line and column", async () => {
    const p = file('{\n  "a": 1,\n  "b": }\n');
    const r = await loadEventPayload(p);
    expect(r.value).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ severity: "error", file: p, line: 3, col: 8 });
    expect(r.diagnostics[0]!.message).toContain("invalid JSON");
  });

  it("reports the end of a truncated file", async () => {
    const r = await loadEventPayload(file('{\n"a": [1,\n'));
    expect(r.diagnostics[0]).toMatchObject({ line: 3, col: 1 });
    expect(r.diagnostics[0]!.message).toContain("unexpected end of input");
  });

  it("reports a missing file with its path", async () => {
    const p = join(dir, "nope.json");
    const r = await loadEventPayload(p);
    expect(r.value).toBeUndefined();
    expect(r.diagnostics[0]).toMatchObject({ severity: "error", file: p });
    expect(r.diagnostics[0]!.message).toContain("no such file");
  });

  it.skipIf(process.getuid?.() === 0)("reports an unreadable file", async () => {
    const p = file("{}");
    chmodSync(p, 0o000);
    const r = await loadEventPayload(p);
    expect(r.diagnostics[0]!.message).toContain("permission denied");
  });

  it("refuses a directory", async () => {
    const r = await loadEventPayload(dir);
    expect(r.diagnostics[0]!.message).toContain("not a regular file");
  });

  it("refuses a file over the size cap before parsing it", async () => {
    const p = file(JSON.stringify({ blob: "x".repeat(2000) }));
    const r = await loadEventPayload(p, { maxBytes: 1000 });
    expect(r.value).toBeUndefined();
    expect(r.diagnostics[0]!.message).toMatch(/more than the 1000-byte limit/);
  });

  it.each([["[1, 2]"], ['"text"'], ["null"]])(
    "refuses %s because a payload must be an object",
    async (text) => {
      const r = await loadEventPayload(file(text));
      expect(r.value).toBeUndefined();
      expect(r.diagnostics[0]!.message).toBe("the event payload must be a JSON object");
    },
  );

  it("refuses pathological nesting with a diagnostic instead of crashing", async () => {
    const r = await loadEventPayload(file(`{"a": ${"[".repeat(100_000)}}`));
    expect(r.value).toBeUndefined();
    expect(r.diagnostics[0]!.message).toContain("nesting deeper than");
  });

  it("drops __proto__ and constructor keys so merging the payload cannot pollute prototypes", async () => {
    const p = file(
      '{"__proto__": {"polluted": true}, "a": {"constructor": {"prototype": {"polluted": true}}, "__proto__": {"x": 1}, "ok": 1}}',
    );
    const r = await loadEventPayload(p);
    const v = r.value!;
    expect(Object.keys(v)).toEqual(["a"]);
    expect(v.a).toEqual({ ok: 1 });
    expect(Object.getPrototypeOf(v.a)).toBe(Object.prototype);
    expect(r.diagnostics.every((d) => d.severity === "warning")).toBe(true);
    expect(r.diagnostics.map((d) => d.message).sort()).toEqual([
      'ignored the key "__proto__" in the event payload',
      'ignored the key "constructor" in the event payload',
      'ignored the key "prototype" in the event payload',
    ]);
    const merged = mergeEventPayload({ a: { keep: 2 } }, v);
    expect(merged).toEqual({ a: { keep: 2, ok: 1 } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
