import { readFile } from "node:fs/promises";
import type { Diagnostic } from "../shared/diagnostic.ts";

/** Key/value pairs gathered from repeated flags and files, with any problems found. */
export interface KeyValues {
  values: Record<string, string>;
  diagnostics: Diagnostic[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Parses repeated `KEY=VALUE` flags (`-s`, `--var`, `--env`, `--input`). With
 * `fromEnv`, a bare `KEY` takes its value from that environment, as act's `-s NAME` does.
 */
export function parseKeyValueFlags(
  flag: string,
  items: readonly string[],
  opts: { separator?: string; fromEnv?: Record<string, string | undefined> } = {},
): KeyValues {
  const sep = opts.separator ?? "=";
  const values: Record<string, string> = {};
  const diagnostics: Diagnostic[] = [];
  for (const item of items) {
    const i = item.indexOf(sep);
    const key = i < 0 ? item : item.slice(0, i);
    if (!KEY.test(key)) {
      diagnostics.push({
        severity: "error",
        field: flag,
        message: `'${redactValue(item, i)}' is not KEY${sep}VALUE`,
        hint: `write ${flag} NAME${sep}value`,
      });
      continue;
    }
    if (i < 0) {
      const fromEnv = opts.fromEnv?.[key];
      if (opts.fromEnv && fromEnv !== undefined) {
        values[key] = fromEnv;
        continue;
      }
      diagnostics.push({
        severity: "error",
        field: flag,
        message: `'${key}' has no value${opts.fromEnv ? " and is not set in the environment" : ""}`,
        hint: `write ${flag} ${key}${sep}value`,
      });
      continue;
    }
    values[key] = item.slice(i + sep.length);
  }
  return { values, diagnostics };
}

/**
 * Reads a dotenv-style file (`KEY=value`, `export KEY=value`, `#` comments, single or double
 * quotes, `\n` escapes inside double quotes). Errors carry file and line; values never appear in
 * messages, since these files hold secrets.
 */
export async function readKeyValueFile(flag: string, file: string): Promise<KeyValues> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    return {
      values: {},
      diagnostics: [
        {
          severity: "error",
          field: flag,
          file,
          message: `cannot read the file (${code})`,
          hint: "check the path",
        },
      ],
    };
  }
  return parseKeyValueText(flag, file, text);
}

/** Parses dotenv-style text; see {@link readKeyValueFile}. */
export function parseKeyValueText(flag: string, file: string, text: string): KeyValues {
  const values: Record<string, string> = {};
  const diagnostics: Diagnostic[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, n) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const body = line.startsWith("export ") ? line.slice(7).trimStart() : line;
    const i = body.indexOf("=");
    const key = i < 0 ? body : body.slice(0, i).trim();
    if (i < 0 || !KEY.test(key)) {
      diagnostics.push({
        severity: "error",
        field: flag,
        file,
        line: n + 1,
        col: 1,
        message: i < 0 ? "expected KEY=VALUE" : `'${key}' is not a valid name`,
        hint: "each line is NAME=value; names are letters, digits and _",
      });
      return;
    }
    let value = body.slice(i + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    } else if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) {
      value = value.slice(1, -1);
    } else {
      const hash = value.search(/\s#/);
      if (hash >= 0) value = value.slice(0, hash).trimEnd();
    }
    values[key] = value;
  });
  return { values, diagnostics };
}

// Show only the part before the separator: the rest may be a secret.
function redactValue(item: string, sepIndex: number): string {
  return sepIndex < 0 ? item : `${item.slice(0, sepIndex)}=…`;
}
