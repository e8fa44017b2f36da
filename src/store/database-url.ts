import path from "node:path";
import { ActvmError } from "../shared/errors.ts";

/** Where the store lives, parsed from `ACTVM_DATABASE_URL` or a plain path. */
export type DatabaseTarget =
  | { kind: "sqlite"; /** Absolute file path, or `:memory:`. */ file: string }
  | { kind: "postgres"; url: string };

/**
 * Parses a database location: a file path, `sqlite:<path>`, `sqlite://<path>`,
 * `sqlite::memory:` or `postgres://…`. Relative paths resolve against `cwd`.
 *
 * @example
 * parseDatabaseUrl("sqlite:///var/lib/actvm.db"); // { kind: "sqlite", file: "/var/lib/actvm.db" }
 */
export function parseDatabaseUrl(url: string, cwd: string = process.cwd()): DatabaseTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "postgres" || scheme === "postgresql") return { kind: "postgres", url };
  let file = url;
  if (scheme === "sqlite") {
    file = url.slice("sqlite:".length);
    if (file.startsWith("//")) file = file.slice(2);
  } else if (scheme !== undefined && url.slice(scheme.length + 1).startsWith("//")) {
    throw new ActvmError("INVALID_CONFIG", `unsupported database URL scheme "${scheme}:"`, {
      subsystem: "store",
      hint: "use a file path, sqlite:<path> or postgres://…",
    });
  }
  if (file === "")
    throw new ActvmError("INVALID_CONFIG", `database URL "${url}" names no file`, {
      subsystem: "store",
    });
  if (file === ":memory:") return { kind: "sqlite", file };
  return { kind: "sqlite", file: path.resolve(cwd, file) };
}
