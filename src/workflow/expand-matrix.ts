import type { Diagnostic, Parsed } from "../shared/diagnostic.ts";
import { coerceToString, setOwn } from "./expression-data.ts";
import type { ExpandedStrategy, JsonValue, MatrixLeg, SourceLocation } from "./model.ts";

/** GitHub's cap on the jobs one matrix may produce. */
export const MAX_MATRIX_LEGS = 256;

/**
 * Beyond this many raw combinations we stop before enumerating: no realistic exclude list
 * brings that under {@link MAX_MATRIX_LEGS}, and enumerating would only burn CPU.
 */
const MAX_RAW_COMBINATIONS = 1_000_000;

type JsonObject = { [key: string]: JsonValue };

/** Options for {@link expandMatrix}. */
export interface ExpandMatrixOptions {
  /** Where `strategy:` is written; every diagnostic carries it. */
  location?: SourceLocation;
}

/**
 * Expands an evaluated `strategy:` into matrix legs with GitHub's rules: the cartesian product
 * of the vectors (first key varies slowest), then `exclude` (partial matches), then `include`
 * (merged into every leg whose original values it keeps, else appended), capped at 256 legs.
 * A job without a matrix gets one empty leg. Problems are diagnostics; this never throws.
 *
 * @example
 * expandMatrix({ matrix: { node: [18, 20], os: ["ubuntu"] } }).value?.legs.map((l) => l.values);
 * // [{ node: 18, os: "ubuntu" }, { node: 20, os: "ubuntu" }]
 */
export function expandMatrix(
  strategy: JsonValue | undefined,
  opts: ExpandMatrixOptions = {},
): Parsed<ExpandedStrategy> {
  const diagnostics: Diagnostic[] = [];
  const error = (message: string, field: string, hint?: string): void => {
    diagnostics.push({
      severity: "error",
      message,
      field,
      ...(opts.location ?? {}),
      ...(hint !== undefined ? { hint } : {}),
    });
  };

  if (strategy !== undefined && strategy !== null && !isObject(strategy)) {
    error(`strategy must be a mapping, but it is ${describe(strategy)}`, "strategy");
    return { value: undefined, diagnostics };
  }
  const strat: JsonObject = strategy ?? {};

  const failFast = readFailFast(strat["fail-fast"], error);
  const legs = readLegs(strat["matrix"], error);
  const maxParallel = readMaxParallel(strat["max-parallel"], legs?.length ?? 1, error);

  if (diagnostics.length > 0 || !legs || failFast === undefined || maxParallel === undefined) {
    return { value: undefined, diagnostics };
  }
  return { value: { legs, failFast, maxParallel, total: legs.length }, diagnostics };
}

/**
 * GitHub's display name for a matrix leg: `build (18, ubuntu-latest)`. Values appear in the
 * leg's key order; a nested object or array shows its values. A leg without values keeps the
 * plain job name. (GitHub does not append the values when the job's `name:` uses `matrix`.)
 */
export function matrixLegName(jobName: string, leg: MatrixLeg): string {
  const parts: string[] = [];
  const flatten = (v: JsonValue): void => {
    if (Array.isArray(v)) v.forEach(flatten);
    else if (isObject(v)) Object.values(v).forEach(flatten);
    else parts.push(coerceToString(v));
  };
  Object.values(leg.values).forEach(flatten);
  return parts.length === 0 ? jobName : `${jobName} (${parts.join(", ")})`;
}

/** The `strategy` expression context of one leg. */
export function strategyContext(strategy: ExpandedStrategy, leg: MatrixLeg): JsonObject {
  return {
    "fail-fast": strategy.failFast,
    "job-index": leg.index,
    "job-total": strategy.total,
    "max-parallel": strategy.maxParallel,
  };
}

type Report = (message: string, field: string, hint?: string) => void;

function readFailFast(raw: JsonValue | undefined, error: Report): boolean | undefined {
  if (raw === undefined || raw === null) return true;
  if (typeof raw === "boolean") return raw;
  // An expression such as `${{ inputs.fail-fast }}` may arrive as the string GitHub coerces.
  if (typeof raw === "string" && /^(true|false)$/i.test(raw.trim())) {
    return raw.trim().toLowerCase() === "true";
  }
  error(`fail-fast must be true or false, but it is ${describe(raw)}`, "strategy.fail-fast");
  return undefined;
}

function readMaxParallel(
  raw: JsonValue | undefined,
  legCount: number,
  error: Report,
): number | undefined {
  if (raw === undefined || raw === null) return legCount;
  const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    error(
      `max-parallel must be a whole number of at least 1, but it is ${describe(raw)}`,
      "strategy.max-parallel",
      "leave max-parallel out to run every leg at once",
    );
    return undefined;
  }
  return n;
}

function readLegs(raw: JsonValue | undefined, error: Report): MatrixLeg[] | undefined {
  if (raw === undefined || raw === null) return [{ values: {}, index: 0 }];
  if (!isObject(raw)) {
    error(
      `matrix must be a mapping, but it is ${describe(raw)}`,
      "strategy.matrix",
      typeof raw === "string" ? "use fromJSON() to turn a JSON string into a matrix" : undefined,
    );
    return undefined;
  }

  const vectors: [string, JsonValue[]][] = [];
  let include: JsonObject[] = [];
  let exclude: JsonObject[] = [];
  let ok = true;
  for (const [key, value] of Object.entries(raw)) {
    if (key === "include" || key === "exclude") {
      const entries = readEntries(key, value, error);
      if (!entries) ok = false;
      else if (key === "include") include = entries;
      else exclude = entries;
    } else if (!Array.isArray(value)) {
      error(
        `matrix vector '${key}' must be a sequence, but it is ${describe(value)}`,
        `strategy.matrix.${key}`,
        `write it as a list, e.g. ${key}: [${JSON.stringify(value)}]`,
      );
      ok = false;
    } else if (value.length === 0) {
      error(`matrix vector '${key}' does not contain any values`, `strategy.matrix.${key}`);
      ok = false;
    } else {
      vectors.push([key, value]);
    }
  }
  const vectorKeys = new Set(vectors.map(([k]) => k));
  for (const entry of exclude) {
    for (const key of Object.keys(entry)) {
      if (!vectorKeys.has(key)) {
        error(
          `matrix exclude key '${key}' does not match any key within the matrix`,
          "strategy.matrix.exclude",
        );
        ok = false;
      }
    }
  }
  if (!ok) return undefined;

  const raws = vectors.reduce((n, [, values]) => n * values.length, 1);
  if (raws > MAX_RAW_COMBINATIONS) {
    error(
      `matrix has ${raws} combinations; GitHub allows at most ${MAX_MATRIX_LEGS} jobs`,
      "strategy.matrix",
      "split the job, or shorten the vectors",
    );
    return undefined;
  }

  // Stream the product so a large matrix is counted without being held in memory.
  const kept: JsonObject[] = [];
  let count = 0;
  const includeUsed = include.map(() => false);
  if (vectors.length > 0) {
    for (const combo of product(vectors)) {
      if (exclude.some((entry) => matches(combo, entry))) continue;
      count++;
      let leg: JsonObject = combo;
      include.forEach((entry, i) => {
        const keepsOriginals = Object.entries(entry).every(
          ([k, v]) => !vectorKeys.has(k) || deepEqual(combo[k], v),
        );
        if (keepsOriginals) {
          // Added keys may be overwritten by later entries; original keys never change.
          leg = { ...leg, ...entry };
          includeUsed[i] = true;
        }
      });
      if (count <= MAX_MATRIX_LEGS) kept.push(leg);
    }
  }
  include.forEach((entry, i) => {
    if (includeUsed[i]) return;
    count++;
    if (count <= MAX_MATRIX_LEGS) kept.push(entry);
  });

  if (count === 0) {
    error(
      "matrix must define at least one vector",
      "strategy.matrix",
      vectors.length > 0
        ? "every combination is excluded; remove an exclude entry"
        : "add a vector such as `os: [ubuntu-latest]` or an include entry",
    );
    return undefined;
  }
  if (count > MAX_MATRIX_LEGS) {
    error(
      `matrix expands to ${count} jobs; GitHub allows at most ${MAX_MATRIX_LEGS}`,
      "strategy.matrix",
      "split the job, or exclude combinations you do not need",
    );
    return undefined;
  }
  return kept.map((values, index) => ({ values: structuredClone(values), index }));
}

function readEntries(
  key: "include" | "exclude",
  value: JsonValue,
  error: Report,
): JsonObject[] | undefined {
  if (value === null) return [];
  if (!Array.isArray(value)) {
    error(
      `matrix ${key} must be a sequence of mappings, but it is ${describe(value)}`,
      `strategy.matrix.${key}`,
    );
    return undefined;
  }
  const out: JsonObject[] = [];
  let ok = true;
  value.forEach((entry, i) => {
    if (isObject(entry)) out.push(entry);
    else {
      error(
        `matrix ${key} entry ${i + 1} must be a mapping, but it is ${describe(entry)}`,
        `strategy.matrix.${key}`,
      );
      ok = false;
    }
  });
  return ok ? out : undefined;
}

/** Cartesian product in GitHub's order: the first vector varies slowest. */
function* product(vectors: [string, JsonValue[]][]): Generator<JsonObject> {
  const idx = vectors.map(() => 0);
  for (;;) {
    const combo: JsonObject = {};
    vectors.forEach(([key, values], i) => {
      setOwn(combo, key, values[idx[i] ?? 0] ?? null);
    });
    yield combo;
    let pos = vectors.length - 1;
    for (; pos >= 0; pos--) {
      const vector = vectors[pos];
      const next = (idx[pos] ?? 0) + 1;
      if (vector && next < vector[1].length) {
        idx[pos] = next;
        break;
      }
      idx[pos] = 0;
    }
    if (pos < 0) return;
  }
}

/** Exclude semantics: every key of the filter matches; nested mappings match partially. */
function matches(value: JsonValue | undefined, filter: JsonValue): boolean {
  if (isObject(filter)) {
    if (!isObject(value)) return false;
    return Object.entries(filter).every(
      ([k, v]) => Object.hasOwn(value, k) && matches(value[k], v),
    );
  }
  return deepEqual(value, filter);
}

function deepEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: JsonValue): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a sequence";
  if (isObject(v)) return "a mapping";
  return `the ${typeof v} ${JSON.stringify(v)}`;
}
