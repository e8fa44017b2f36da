import { open } from "node:fs/promises";
import type { Diagnostic, Parsed } from "../shared/diagnostic.ts";
import { findJsonError } from "./find-json-error.ts";

/** GitHub caps webhook payloads at 25 MB; an event file bigger than that is not an event. */
export const MAX_EVENT_PAYLOAD_BYTES = 25 * 1024 * 1024;

const MAX_DEPTH = 256;
// Keys that could reach Object.prototype when a payload is later merged by assignment.
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Reads the event payload given with `-e/--eventpath`. An unreadable file, invalid JSON
 * (located by line and column), a non-object, excessive nesting or a file over
 * {@link MAX_EVENT_PAYLOAD_BYTES} gives an error diagnostic; `__proto__`, `constructor` and
 * `prototype` keys are dropped with a warning so the result can be merged safely.
 *
 * @example
 * const { value, diagnostics } = await loadEventPayload("event.json");
 */
export async function loadEventPayload(
  path: string,
  opts: { maxBytes?: number } = {},
): Promise<Parsed<Record<string, unknown>>> {
  const maxBytes = opts.maxBytes ?? MAX_EVENT_PAYLOAD_BYTES;
  const diag = (
    message: string,
    extra: Partial<Diagnostic> = {},
  ): Parsed<Record<string, unknown>> => ({
    value: undefined,
    diagnostics: [{ severity: "error", message, file: path, ...extra }],
  });

  let text: string;
  try {
    const fh = await open(path, "r");
    try {
      const st = await fh.stat();
      if (!st.isFile())
        return diag("the event payload path is not a regular file", {
          hint: "pass a JSON file to -e",
        });
      if (st.size > maxBytes) {
        return diag(`the event payload is ${st.size} bytes, more than the ${maxBytes}-byte limit`, {
          hint: "GitHub never sends events this large; trim the file to the fields the workflow reads",
        });
      }
      // Read one byte past the cap so a file that grew since stat is still caught.
      const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
      let len = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, len, buf.length - len, len);
        if (bytesRead === 0) break;
        len += bytesRead;
        if (len === buf.length) break;
      }
      if (len > maxBytes)
        return diag(`the event payload is larger than the ${maxBytes}-byte limit`);
      text = buf.subarray(0, len).toString("utf8");
    } finally {
      await fh.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(err);
    return diag(`cannot read the event payload: ${why}`, {
      hint: "pass the path of a JSON file to -e/--eventpath",
    });
  }

  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const syntax = findJsonError(text, MAX_DEPTH);
  if (syntax) {
    const { line, col } = lineCol(text, syntax.offset);
    return diag(`invalid JSON in the event payload: ${syntax.message}`, {
      line,
      col,
      hint: "the file must hold one JSON object, like a webhook's body",
    });
  }

  const dropped: string[] = [];
  const value: unknown = JSON.parse(text, function (this: unknown, key: string, v: unknown) {
    if (UNSAFE_KEYS.has(key) && this !== null && typeof this === "object" && !Array.isArray(this)) {
      dropped.push(key);
      return undefined;
    }
    return v;
  });
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return diag("the event payload must be a JSON object", { line: 1, col: 1 });
  }
  const diagnostics: Diagnostic[] = [...new Set(dropped)].map((key) => ({
    severity: "warning",
    message: `ignored the key ${JSON.stringify(key)} in the event payload`,
    file: path,
    hint: "such keys could change object prototypes and are never part of a GitHub event",
  }));
  return { value: value as Record<string, unknown>, diagnostics };
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return { line, col: offset - start + 1 };
}
