import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeFrame, FRAME_HEADER_BYTES } from "./frame.ts";
import { FrameDecoder } from "./frame-decoder.ts";
import { ProtocolError } from "./protocol-error.ts";

const frameArb = fc.record({
  json: fc.jsonValue().filter((v) => v !== undefined),
  binary: fc.uint8Array({ maxLength: 300 }),
});

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    parts.push(bytes.subarray(prev, p));
    prev = p;
  }
  parts.push(bytes.subarray(prev));
  return parts;
}

describe("FrameDecoder", () => {
  it("decodes any split of any frame sequence into the same frames", () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map((f) => encodeFrame(f.json, f.binary)));
          const decoder = new FrameDecoder();
          const out = splitAt(stream, cuts).flatMap((part) => decoder.push(part));
          expect(out).toHaveLength(frames.length);
          out.forEach((frame, i) => {
            // JSON round trip normalises -0 and the like exactly as the wire does.
            expect(frame.json).toEqual(JSON.parse(JSON.stringify(frames[i]?.json)));
            expect(Buffer.compare(frame.binary, Buffer.from(frames[i]?.binary ?? []))).toBe(0);
          });
          expect(decoder.pendingBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("returns several frames delivered in one chunk, and keeps a partial tail for later", () => {
    const a = encodeFrame({ type: "ping", id: 1 });
    const b = encodeFrame({ type: "put-data", id: 2 }, Buffer.from("xyz"));
    const decoder = new FrameDecoder();
    const first = decoder.push(Buffer.concat([a, b, b.subarray(0, 5)]));
    expect(first.map((f) => f.json)).toEqual([
      { type: "ping", id: 1 },
      { type: "put-data", id: 2 },
    ]);
    expect(first[1]?.binary.toString()).toBe("xyz");
    expect(decoder.pendingBytes).toBe(5);
    expect(decoder.push(b.subarray(5))).toHaveLength(1);
  });

  it("rejects a frame whose declared size exceeds the limit before its body arrives", () => {
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32BE(10, 0);
    header.writeUInt32BE(2000, 4);
    const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
    expect(() => decoder.push(header)).toThrow(ProtocolError);
    // Once broken, it stays broken: later bytes cannot resynchronise a hostile stream.
    expect(() => decoder.push(encodeFrame({ type: "ping", id: 1 }))).toThrow(ProtocolError);
  });

  it("rejects invalid JSON and invalid UTF-8 in the JSON part", () => {
    const bad = (text: Buffer): Buffer => {
      const header = Buffer.alloc(FRAME_HEADER_BYTES);
      header.writeUInt32BE(text.length, 0);
      return Buffer.concat([header, text]);
    };
    expect(() => new FrameDecoder().push(bad(Buffer.from("{nope")))).toThrow(/not valid/);
    expect(() => new FrameDecoder().push(bad(Buffer.from([0x22, 0xff, 0x22])))).toThrow(
      ProtocolError,
    );
  });

  it("refuses to encode a frame over the limit", () => {
    expect(() => encodeFrame({ t: 1 }, Buffer.alloc(9 * 1024 * 1024))).toThrow(RangeError);
  });
});
