import { describe, expect, it } from "vitest";
import { createTailBuffer } from "./tail-buffer.ts";

describe("createTailBuffer", () => {
  it("keeps everything while under the limit", () => {
    const b = createTailBuffer(10);
    b.push(Buffer.from("abc"));
    b.push(Buffer.from("def"));
    expect(b.text()).toBe("abcdef");
  });

  it("keeps only the last maxBytes and marks the cut", () => {
    const b = createTailBuffer(4);
    for (const s of ["hello ", "wor", "ld"]) b.push(Buffer.from(s));
    expect(b.text()).toBe("…orld");
  });
});
