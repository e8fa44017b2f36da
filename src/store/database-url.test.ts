import { describe, expect, it } from "vitest";
import { isActvmError } from "../shared/errors.ts";
import { parseDatabaseUrl } from "./database-url.ts";

describe("parseDatabaseUrl", () => {
  it("understands paths and sqlite URLs", () => {
    expect(parseDatabaseUrl("/a/b.db")).toEqual({ kind: "sqlite", file: "/a/b.db" });
    expect(parseDatabaseUrl("b.db", "/cwd")).toEqual({ kind: "sqlite", file: "/cwd/b.db" });
    expect(parseDatabaseUrl("sqlite:/a/b.db")).toEqual({ kind: "sqlite", file: "/a/b.db" });
    expect(parseDatabaseUrl("sqlite:///a/b.db")).toEqual({ kind: "sqlite", file: "/a/b.db" });
    expect(parseDatabaseUrl("sqlite://rel.db", "/cwd")).toEqual({
      kind: "sqlite",
      file: "/cwd/rel.db",
    });
    expect(parseDatabaseUrl("sqlite::memory:")).toEqual({ kind: "sqlite", file: ":memory:" });
  });

  it("recognises postgres and rejects other schemes", () => {
    expect(parseDatabaseUrl("postgresql://h/db")).toEqual({
      kind: "postgres",
      url: "postgresql://h/db",
    });
    let err: unknown;
    try {
      parseDatabaseUrl("mysql://h/db");
    } catch (e) {
      err = e;
    }
    expect(isActvmError(err, "INVALID_CONFIG")).toBe(true);
  });
});
