import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { newRunId, newSortableId, sortableIdTime } from "./ids.ts";

describe("sortable ids", () => {
  it("sort as strings in the order of their creation times", () => {
    fc.assert(
      fc.property(fc.nat(2 ** 47), fc.nat(2 ** 47), (a, b) => {
        const ia = newSortableId("r_", a);
        const ib = newSortableId("r_", b);
        if (a < b) expect(ia < ib).toBe(true);
        if (a > b) expect(ia > ib).toBe(true);
      }),
    );
  });

  it("encode a time that can be read back", () => {
    fc.assert(
      fc.property(fc.nat(2 ** 47), (t) => {
        expect(sortableIdTime(newSortableId("x", t), "x")).toBe(t);
      }),
    );
  });

  it("make run ids with the r_ prefix, fixed length and no collisions in practice", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newRunId(1_700_000_000_000)));
    expect(ids.size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(/^r_[0-9a-hjkmnp-tv-z]{26}$/);
  });
});
