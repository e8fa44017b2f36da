import { data } from "@actions/expressions";
import type { JsonValue } from "./model.ts";

/**
 * Converts plain JSON into `@actions/expressions` data. Objects become case-insensitive
 * dictionaries, as GitHub's contexts are; when two keys differ only in case the first wins.
 */
export function toExpressionData(value: JsonValue | undefined): data.ExpressionData {
  if (value === null || value === undefined) return new data.Null();
  switch (typeof value) {
    case "string":
      return new data.StringData(value);
    case "number":
      return new data.NumberData(value);
    case "boolean":
      return new data.BooleanData(value);
  }
  if (Array.isArray(value)) return new data.Array(...value.map((v) => toExpressionData(v)));
  const dict = new data.Dictionary();
  for (const [key, v] of Object.entries(value)) dict.add(key, toExpressionData(v));
  return dict;
}

/**
 * Converts `@actions/expressions` data back to plain JSON. Non-finite numbers (NaN from a failed
 * coercion, Infinity) have no JSON form and become `null`, which is also how JSON.stringify
 * would render them.
 */
export function fromExpressionData(value: data.ExpressionData): JsonValue {
  switch (value.kind) {
    case data.Kind.Null:
      return null;
    case data.Kind.Boolean:
      return value.value;
    case data.Kind.Number:
      return Number.isFinite(value.value) ? value.value : null;
    case data.Kind.String:
      return value.value;
    case data.Kind.Array:
      return value.values().map((v) => fromExpressionData(v));
    case data.Kind.Dictionary: {
      const out: Record<string, JsonValue> = {};
      for (const { key, value: v } of value.pairs()) setOwn(out, key, fromExpressionData(v));
      return out;
    }
  }
}

/**
 * GitHub's conversion of a value to a string where a string is needed (`env:`, `run:`, names):
 * numbers as GitHub prints them (`1`, `1.5`), booleans as `true`/`false`, null as "", and
 * objects and arrays as pretty-printed JSON, the same text `toJSON()` gives.
 */
export function coerceToString(value: JsonValue): string {
  if (value === null) return "";
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      return new data.NumberData(value).coerceString();
    case "boolean":
      return value ? "true" : "false";
  }
  return JSON.stringify(value, null, 2);
}

/**
 * Sets a property as own data, so a key named `__proto__` (possible in user JSON) is stored
 * like any other instead of replacing the object's prototype.
 */
export function setOwn(obj: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}
