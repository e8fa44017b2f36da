import os from "node:os";
import path from "node:path";
import { z } from "zod";
import type { Diagnostic, Parsed } from "./diagnostic.ts";

/** The sandbox backends a user can ask for; `auto` picks the strongest one the host supports. */
export const BACKENDS = [
  "auto",
  "host",
  "bwrap",
  "gvisor",
  "qemu",
  "firecracker",
  "remote",
] as const;

/** Log levels, from the most to the least verbose. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

const MIB = 1024 * 1024;
const DEFAULT_STEP_LOG_MAX_BYTES = 64 * MIB;
const DEFAULT_ACTIONS_URL = "https://github.com";

/** Every environment variable the configuration reads, with what to tell a user who got it wrong. */
const DEFAULT_KILL_GRACE_MS = 7500;

const HINTS = {
  ACTVM_HOME: "set it to an absolute directory, e.g. ACTVM_HOME=$HOME/.actvm",
  ACTVM_BACKEND: `use one of: ${BACKENDS.join(", ")}`,
  ACTVM_MAX_PARALLEL_JOBS: "use a whole number of at least 1, e.g. ACTVM_MAX_PARALLEL_JOBS=4",
  ACTVM_LOG_LEVEL: `use one of: ${LOG_LEVELS.join(", ")}`,
  ACTVM_KILL_GRACE_MS:
    "use a whole number of milliseconds of at least 1 (GitHub waits 7500 after SIGINT), e.g. ACTVM_KILL_GRACE_MS=2000",
  ACTVM_STEP_LOG_MAX_BYTES:
    "use a positive size in bytes, optionally with a unit: 1048576, 512KiB, 64MiB, 1GiB (K/M/G are powers of 1024, KB/MB/GB powers of 1000)",
  ACTVM_DATABASE_URL:
    "use a file path, sqlite:<path>, sqlite::memory: or postgres://user:pass@host/db",
  ACTVM_ACTIONS_URL: "use a base URL such as https://github.com or file:///srv/git-mirror",
  ACTVM_ACTIONS_DIR: "set it to an absolute directory holding <owner>/<repo>@<ref> checkouts",
  ACTVM_QEMU_WARM_POOL:
    "use a whole number of idle VMs to keep ready per image and size, from 0 (off) to 64, e.g. ACTVM_QEMU_WARM_POOL=2",
  ACTVM_QEMU_SNAPSHOTS: "use 1 or true to start VMs from a snapshot, 0 or false to boot them",
  NO_COLOR: "any non-empty value turns colour off",
  CI: "set CI=true or CI=false",
} as const;

type EnvName = keyof typeof HINTS;

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: MIB,
  mib: MIB,
  g: 1024 * MIB,
  gib: 1024 * MIB,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
};

/** An unset or blank variable counts as absent, so `FOO= actvm run` means the default. */
const setting = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

function expandHome(p: string, home: string): string {
  if (p === "~") return home;
  if (p.startsWith("~/")) return path.join(home, p.slice(2));
  return p;
}

function absoluteDir(what: string, home: string) {
  return (v: string, ctx: z.RefinementCtx): string => {
    const expanded = expandHome(v, home);
    if (!path.isAbsolute(expanded)) {
      ctx.addIssue({ code: "custom", message: `${what} must be an absolute path, got "${v}"` });
      return z.NEVER;
    }
    return path.normalize(expanded).replace(/(.)\/+$/, "$1");
  };
}

function parseSize(v: string, ctx: z.RefinementCtx): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v);
  const factor = m ? SIZE_UNITS[(m[2] ?? "").toLowerCase()] : undefined;
  const bytes = m && factor !== undefined ? Math.floor(Number(m[1]) * factor) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a positive size in bytes` });
    return z.NEVER;
  }
  return bytes;
}

function parsePositiveInt(v: string, ctx: z.RefinementCtx): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a whole number of at least 1` });
    return z.NEVER;
  }
  return n;
}

const MAX_WARM_POOL = 64;

function parseWarmPool(v: string, ctx: z.RefinementCtx): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n > MAX_WARM_POOL) {
    ctx.addIssue({
      code: "custom",
      message: `"${v}" is not a whole number from 0 to ${MAX_WARM_POOL}`,
    });
    return z.NEVER;
  }
  return n;
}

function parseSwitch(v: string, ctx: z.RefinementCtx): boolean {
  const lower = v.toLowerCase();
  if (lower === "1" || lower === "true") return true;
  if (lower === "0" || lower === "false") return false;
  ctx.addIssue({ code: "custom", message: `"${v}" is neither on (1, true) nor off (0, false)` });
  return z.NEVER;
}

function checkDatabaseUrl(v: string, ctx: z.RefinementCtx): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(v)?.[1]?.toLowerCase();
  if (scheme === "sqlite") {
    if (v.slice("sqlite:".length).replace(/^\/\//, "") === "") {
      ctx.addIssue({ code: "custom", message: "sqlite: URL names no database file" });
      return z.NEVER;
    }
    return v;
  }
  if (scheme === "postgres" || scheme === "postgresql") {
    if (!URL.canParse(v)) {
      ctx.addIssue({ code: "custom", message: "is not a valid postgres:// URL" });
      return z.NEVER;
    }
    return v;
  }
  // A bare path may still contain a colon ("./db:1.sqlite"); only `scheme://` is clearly a URL.
  if (scheme !== undefined && v.slice(scheme.length + 1).startsWith("//")) {
    ctx.addIssue({ code: "custom", message: `unsupported database scheme "${scheme}:"` });
    return z.NEVER;
  }
  return v;
}

function checkActionsUrl(v: string, ctx: z.RefinementCtx): string {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a URL` });
    return z.NEVER;
  }
  if (!["http:", "https:", "file:", "ssh:", "git:"].includes(url.protocol)) {
    ctx.addIssue({ code: "custom", message: `unsupported protocol "${url.protocol}"` });
    return z.NEVER;
  }
  if (url.search || url.hash) {
    ctx.addIssue({ code: "custom", message: "must not carry a query or fragment" });
    return z.NEVER;
  }
  return v.replace(/\/+$/, "");
}

function buildSchema(home: string, cpus: number) {
  return z
    .object({
      ACTVM_HOME: setting.transform((v, ctx) =>
        v === undefined ? path.join(home, ".actvm") : absoluteDir("ACTVM_HOME", home)(v, ctx),
      ),
      ACTVM_BACKEND: setting.pipe(
        z
          .enum(BACKENDS, { error: (iss) => `unknown backend "${String(iss.input)}"` })
          .default("auto"),
      ),
      ACTVM_MAX_PARALLEL_JOBS: setting.transform((v, ctx) =>
        v === undefined ? cpus : parsePositiveInt(v, ctx),
      ),
      ACTVM_LOG_LEVEL: setting.pipe(
        z
          .enum(LOG_LEVELS, { error: (iss) => `unknown log level "${String(iss.input)}"` })
          .default("info"),
      ),
      ACTVM_KILL_GRACE_MS: setting.transform((v, ctx) =>
        v === undefined ? DEFAULT_KILL_GRACE_MS : parsePositiveInt(v, ctx),
      ),
      ACTVM_STEP_LOG_MAX_BYTES: setting.transform((v, ctx) =>
        v === undefined ? DEFAULT_STEP_LOG_MAX_BYTES : parseSize(v, ctx),
      ),
      ACTVM_DATABASE_URL: setting.transform((v, ctx) =>
        v === undefined ? undefined : checkDatabaseUrl(v, ctx),
      ),
      ACTVM_ACTIONS_URL: setting.transform((v, ctx) =>
        v === undefined ? DEFAULT_ACTIONS_URL : checkActionsUrl(v, ctx),
      ),
      ACTVM_ACTIONS_DIR: setting.transform((v, ctx) =>
        v === undefined ? undefined : absoluteDir("ACTVM_ACTIONS_DIR", home)(v, ctx),
      ),
      ACTVM_QEMU_WARM_POOL: setting.transform((v, ctx) =>
        v === undefined ? 0 : parseWarmPool(v, ctx),
      ),
      ACTVM_QEMU_SNAPSHOTS: setting.transform((v, ctx) =>
        v === undefined ? false : parseSwitch(v, ctx),
      ),
      // https://no-color.org: present and not empty disables colour, whatever the value.
      NO_COLOR: z
        .string()
        .optional()
        .transform((v) => v !== undefined && v !== ""),
      CI: setting.transform(
        (v) => v !== undefined && !["0", "false", "no"].includes(v.toLowerCase()),
      ),
    })
    .transform((e) => ({
      home: e.ACTVM_HOME,
      backend: e.ACTVM_BACKEND,
      maxParallelJobs: e.ACTVM_MAX_PARALLEL_JOBS,
      logLevel: e.ACTVM_LOG_LEVEL,
      stepLogMaxBytes: e.ACTVM_STEP_LOG_MAX_BYTES,
      // SIGINT → SIGTERM waits this long, SIGTERM → SIGKILL a third of it (GitHub: 7.5 s, 2.5 s).
      killGrace: {
        interrupt: e.ACTVM_KILL_GRACE_MS,
        terminate: Math.max(1, Math.round(e.ACTVM_KILL_GRACE_MS / 3)),
      },
      databaseUrl: e.ACTVM_DATABASE_URL,
      actionsUrl: e.ACTVM_ACTIONS_URL,
      actionsDir: e.ACTVM_ACTIONS_DIR,
      // Off by default: each pooled VM holds its memory while idle.
      qemuWarmPool: e.ACTVM_QEMU_WARM_POOL,
      qemuSnapshots: e.ACTVM_QEMU_SNAPSHOTS,
      noColor: e.NO_COLOR,
      ci: e.CI,
    }));
}

/** actvm's settings, validated; see {@link loadConfig} for the variables behind each field. */
export type Config = z.infer<ReturnType<typeof buildSchema>>;

/** The sandbox backend names accepted in `ACTVM_BACKEND`. */
export type BackendName = Config["backend"];

/** A log level accepted in `ACTVM_LOG_LEVEL`. */
export type LogLevel = Config["logLevel"];

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Warns about `ACTVM_*` variables that look like a misspelt setting, which would be ignored. */
function typoWarnings(env: Record<string, string | undefined>): Diagnostic[] {
  const known = Object.keys(HINTS);
  const out: Diagnostic[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith("ACTVM_") || known.includes(name)) continue;
    const near = known.find((k) => editDistance(name, k) <= 2);
    if (near)
      out.push({
        severity: "warning",
        field: name,
        message: `unknown setting ${name} is ignored`,
        hint: `did you mean ${near}?`,
      });
  }
  return out;
}

/**
 * Reads actvm's settings from the environment without side effects, reporting every problem at
 * once as diagnostics whose `field` is the variable's name. `value` is undefined when any is an
 * error.
 *
 * @example
 * const { value: config, diagnostics } = loadConfig();
 * if (!config) for (const d of diagnostics) console.error(formatDiagnostic(d));
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  system: { homedir?: string; cpus?: number } = {},
): Parsed<Config> {
  const home = system.homedir ?? os.homedir();
  const cpus = system.cpus ?? os.availableParallelism();
  const warnings = typoWarnings(env);
  const result = buildSchema(home, cpus).safeParse(env);
  if (result.success) return { value: result.data, diagnostics: warnings };
  const errors = result.error.issues.map((issue): Diagnostic => {
    const field = String(issue.path[0] ?? "");
    const hint = field in HINTS ? HINTS[field as EnvName] : undefined;
    return {
      severity: "error",
      field,
      message: issue.message,
      ...(hint ? { hint } : {}),
    };
  });
  return { value: undefined, diagnostics: [...errors, ...warnings] };
}
