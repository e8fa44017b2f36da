import { mkdirSync, realpathSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { ActvmError } from "../shared/errors.ts";
import { createLogger, type Logger } from "../shared/logger.ts";
import { parseDatabaseUrl, type DatabaseTarget } from "./database-url.ts";
import { KyselyStore } from "./kysely-store.ts";
import { migrationProvider } from "./migration-provider.ts";
import type { Database } from "./schema.ts";
import type { Store } from "./store.ts";
import { withWriteLock } from "./write-lock.ts";

/** Where and how to open the store. Give `url` (as in `ACTVM_DATABASE_URL`) or `path`. */
export interface OpenStoreOptions {
  url?: string;
  /** A SQLite file; its directory is created (0700) when missing. */
  path?: string;
  /** Per-step output cap (`ACTVM_STEP_LOG_MAX_BYTES`); default 64 MiB. */
  stepLogMaxBytes?: number;
  log?: Logger;
  /** The process recorded as owner of new runs; default this process. */
  ownerPid?: number;
  ownerHost?: string;
  /** How long log lines may wait before being written; default 200 ms. */
  flushIntervalMs?: number;
  /** How long to wait for another process's write lock; default 10 s. */
  busyTimeoutMs?: number;
  now?: () => number;
}

const SUBSYSTEM = "store";
const MIGRATION_ATTEMPTS = 5;

function targetOf(opts: OpenStoreOptions): DatabaseTarget {
  if (opts.path !== undefined && opts.url !== undefined)
    throw new ActvmError("USAGE", "openStore takes a url or a path, not both", {
      subsystem: SUBSYSTEM,
    });
  if (opts.path !== undefined) {
    if (opts.path === "")
      throw new ActvmError("USAGE", "openStore was given an empty path", { subsystem: SUBSYSTEM });
    return { kind: "sqlite", file: opts.path === ":memory:" ? opts.path : path.resolve(opts.path) };
  }
  if (opts.url !== undefined) return parseDatabaseUrl(opts.url);
  throw new ActvmError("USAGE", "openStore needs a url or a path", { subsystem: SUBSYSTEM });
}

function openSqlite(file: string, busyTimeoutMs: number): BetterSqlite3.Database {
  if (file !== ":memory:") mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new BetterSqlite3(file);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    // WAL lets `actvm runs` read while a run is being written; NORMAL is durable in WAL mode
    // except for the last transactions on power loss, which a run record can afford.
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    return db;
  } catch (err) {
    db?.close();
    throw new ActvmError("STORE", `could not open ${file}: ${(err as Error).message}`, {
      subsystem: SUBSYSTEM,
      hint: "check that the directory is writable and the file is an actvm database",
      cause: err,
    });
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/**
 * Brings the schema up to date inside one IMMEDIATE transaction on this connection: kysely's
 * SQLite adapter takes no migration lock, so two processes opening a fresh file at once
 * would both try to create the tables. IMMEDIATE makes the second wait, then find them done.
 */
async function migrate(db: Kysely<Database>, sqlite: BetterSqlite3.Database): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider, disableTransactions: true });
  for (let attempt = 1; ; attempt++) {
    let error: unknown;
    try {
      sqlite.exec("BEGIN IMMEDIATE");
      ({ error } = await migrator.migrateToLatest());
      if (error === undefined) sqlite.exec("COMMIT");
    } catch (err) {
      error = err;
    } finally {
      if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
    }
    if (error === undefined) return;
    if (isBusy(error) && attempt < MIGRATION_ATTEMPTS) {
      await new Promise((r) => setTimeout(r, 20 * attempt));
      continue;
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new ActvmError("STORE", `could not migrate the database: ${message}`, {
      subsystem: SUBSYSTEM,
      hint: message.includes("corrupted migrations")
        ? "this database was written by a newer actvm; upgrade actvm or use another ACTVM_DATABASE_URL"
        : undefined,
      cause: error,
    });
  }
}

/**
 * Opens (creating and migrating as needed) the run record. SQLite is built in; a Postgres URL
 * is recognised but not supported by this build yet.
 *
 * @example
 * const store = await openStore({ path: actvmPaths(config.home).db, stepLogMaxBytes: config.stepLogMaxBytes });
 * runner.on(store.recordEvent.bind(store));
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const target = targetOf(opts);
  if (target.kind === "postgres")
    throw new ActvmError("INVALID_CONFIG", "PostgreSQL is not supported yet in this build", {
      subsystem: SUBSYSTEM,
      hint: "unset ACTVM_DATABASE_URL to use the embedded SQLite store",
    });
  const sqlite = openSqlite(target.file, opts.busyTimeoutMs ?? 10_000);
  const lockKey = target.file === ":memory:" ? undefined : realpathSync(target.file);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    await (lockKey === undefined
      ? migrate(db, sqlite)
      : withWriteLock(lockKey, () => migrate(db, sqlite)));
  } catch (err) {
    await db.destroy();
    if (sqlite.open) sqlite.close();
    throw err;
  }
  return new KyselyStore(db, {
    log: opts.log ?? createLogger({ level: "warn" }),
    owner: { pid: opts.ownerPid ?? process.pid, host: opts.ownerHost ?? os.hostname() },
    lockKey,
    stepLogMaxBytes: opts.stepLogMaxBytes ?? 64 * 1024 * 1024,
    flushIntervalMs: opts.flushIntervalMs ?? 200,
    now: opts.now ?? Date.now,
  });
}
