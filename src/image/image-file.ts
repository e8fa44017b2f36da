import { readFile } from "node:fs/promises";
import { LineCounter, isMap, isSeq, parseDocument, type Node } from "yaml";
import { z } from "zod";
import type { Diagnostic, Parsed } from "../shared/diagnostic.ts";
import { IMAGE_NAME, PACKAGE_NAME } from "./image-definition.ts";

/** A declarative image file (`image.yml` or `image.json`): a name and extra packages. */
export const imageFileSchema = z
  .object({
    name: z
      .string()
      .regex(IMAGE_NAME, "must be 1-40 lower-case letters, digits, '-' or '_'")
      .optional(),
    include: z
      .array(z.string().regex(PACKAGE_NAME, "is not a Debian package name"))
      .max(1000)
      .optional(),
  })
  .strict();

/** What an image file declares. */
export type ImageFileSpec = z.infer<typeof imageFileSchema>;

const MAX_BYTES = 256 * 1024;

function nodeAt(doc: ReturnType<typeof parseDocument>, keys: readonly PropertyKey[]): Node | null {
  let node: unknown = doc.contents;
  let found: Node | null = (doc.contents as Node | null) ?? null;
  for (const key of keys) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      // Point at the key when the value is missing, so the line is still right.
      node = pair.value ?? pair.key;
      found = (node as Node | null) ?? found;
    } else if (isSeq(node) && typeof key === "number") {
      node = node.items[key];
      if (!node) break;
      found = node as Node;
    } else break;
  }
  return found;
}

function keyNodeAt(
  doc: ReturnType<typeof parseDocument>,
  mapPath: readonly PropertyKey[],
  key: string,
): Node | null {
  const map = nodeAt(doc, mapPath);
  if (!isMap(map)) return map;
  const pair = map.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
  return (pair?.key as Node | null | undefined) ?? map;
}

/**
 * Parses and validates an image file (YAML or JSON, which is YAML too) into
 * {@link ImageFileSpec}, with a diagnostic at the offending line for every problem. Never throws.
 *
 * @example
 * parseImageFile("name: ci\ninclude: [ripgrep, shellcheck]\n", "image.yml").value?.include;
 */
export function parseImageFile(text: string, file: string): Parsed<ImageFileSpec> {
  if (Buffer.byteLength(text) > MAX_BYTES)
    return {
      value: undefined,
      diagnostics: [
        {
          severity: "error",
          message: `the image file is larger than ${MAX_BYTES / 1024} KiB`,
          file,
          line: 1,
          col: 1,
          hint: "an image file only lists a name and packages",
        },
      ],
    };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const diagnostics: Diagnostic[] = [];
  for (const e of doc.errors) {
    const pos = lineCounter.linePos(e.pos[0]);
    diagnostics.push({
      severity: "error",
      message: e.message.split("\n")[0] ?? e.message,
      file,
      line: pos.line,
      col: pos.col,
      hint: "fix the YAML/JSON syntax",
    });
  }
  if (diagnostics.length > 0) return { value: undefined, diagnostics };
  let json: unknown;
  try {
    json = doc.toJS({ maxAliasCount: 50 }) as unknown;
  } catch (err) {
    return {
      value: undefined,
      diagnostics: [{ severity: "error", message: (err as Error).message, file, line: 1, col: 1 }],
    };
  }
  const parsed = imageFileSchema.safeParse(json ?? {});
  if (parsed.success) return { value: parsed.data, diagnostics: [] };
  for (const issue of parsed.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const pos = lineCounter.linePos(keyNodeAt(doc, issue.path, key)?.range?.[0] ?? 0);
        diagnostics.push({
          severity: "error",
          message: `unknown key '${key}'`,
          file,
          line: pos.line,
          col: pos.col,
          hint: "an image file has only `name` and `include` (a list of Debian package names)",
        });
      }
      continue;
    }
    const node = nodeAt(doc, issue.path);
    const pos = lineCounter.linePos(node?.range?.[0] ?? 0);
    const where = issue.path.length ? issue.path.join(".") : "the file";
    diagnostics.push({
      severity: "error",
      message: `${where}: ${issue.message}`,
      file,
      line: pos.line,
      col: pos.col,
      hint:
        issue.path[0] === "include"
          ? "list Debian package names, e.g. include: [ripgrep, shellcheck]"
          : issue.path[0] === "name"
            ? "e.g. name: ci"
            : "write a mapping with `name` and `include`, e.g. {name: ci, include: [ripgrep]}",
    });
  }
  return { value: undefined, diagnostics };
}

/**
 * Reads and parses an image file; a file that cannot be read is a diagnostic too.
 *
 * @example
 * const { value, diagnostics } = await loadImageFile("image.yml");
 */
export async function loadImageFile(
  filePath: string,
  display = filePath,
): Promise<Parsed<ImageFileSpec>> {
  let text: string;
  try {
    text = await readFile(filePath, "utf8");
  } catch (err) {
    return {
      value: undefined,
      diagnostics: [
        {
          severity: "error",
          message: `cannot read the image file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
          file: display,
          hint: "check the path given to --file",
        },
      ],
    };
  }
  return parseImageFile(text, display);
}
