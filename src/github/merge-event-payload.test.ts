import { describe, expect, it } from "vitest";
import { mergeEventPayload } from "./merge-event-payload.ts";

describe("mergeEventPayload", () => {
  it("merges objects key by key and lets the override win elsewhere", () => {
    const base = {
      ref: "refs/heads/main",
      repository: { name: "r", owner: { login: "o" } },
      commits: [1, 2],
    };
    const over = { repository: { owner: { login: "me" } }, commits: [3], extra: null };
    expect(mergeEventPayload(base, over)).toEqual({
      ref: "refs/heads/main",
      repository: { name: "r", owner: { login: "me" } },
      commits: [3],
      extra: null,
    });
  });

  it("leaves both inputs untouched", () => {
    const base = { a: { b: 1 } };
    const over = { a: { c: 2 } };
    mergeEventPayload(base, over);
    expect(base).toEqual({ a: { b: 1 } });
    expect(over).toEqual({ a: { c: 2 } });
  });

  it("skips an own __proto__ key instead of changing the result's prototype", () => {
    const over = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const merged = mergeEventPayload({}, over);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect((merged as { polluted?: boolean }).polluted).toBeUndefined();
    expect(merged).toEqual({ a: 1 });
  });
});
