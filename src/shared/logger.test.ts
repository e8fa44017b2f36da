import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";

function capture(level: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  const log = createLogger({ level, sink: (l) => lines.push(l), now: () => 0 });
  return { log, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("createLogger", () => {
  it("writes JSON lines at or above its level only", () => {
    const { log, records } = capture("warn");
    log.debug("d");
    log.info("i");
    log.warn("w", { n: 1 });
    log.error("e");
    expect(records()).toEqual([
      { time: "1970-01-01T00:00:00.000Z", level: "warn", msg: "w", n: 1 },
      { time: "1970-01-01T00:00:00.000Z", level: "error", msg: "e" },
    ]);
  });

  it("adds child bindings to every line without changing the parent", () => {
    const { log, records } = capture("info");
    const child = log.child({ runId: "r1" }).child({ job: "build" });
    child.info("started");
    log.info("parent");
    expect(records()[0]).toMatchObject({ runId: "r1", job: "build", msg: "started" });
    expect(records()[1]).not.toHaveProperty("runId");
  });

  it("serialises errors, cycles and bigints and keeps reserved keys", () => {
    const { log, records } = capture("info");
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const err = Object.assign(new Error("boom"), { code: "E_X" });
    log.error("failed", { err, cyclic, big: 10n, level: "debug", msg: "spoof" });
    const r = records()[0]!;
    expect(r.level).toBe("error");
    expect(r.msg).toBe("failed");
    expect(r.err).toMatchObject({ name: "Error", message: "boom", code: "E_X" });
    expect(r.cyclic).toEqual({ a: 1, self: "[Circular]" });
    expect(r.big).toBe("10");
  });

  it("never throws when its sink does", () => {
    const log = createLogger({
      level: "info",
      sink: () => {
        throw new Error("disk full");
      },
    });
    expect(() => log.info("x")).not.toThrow();
  });
});
