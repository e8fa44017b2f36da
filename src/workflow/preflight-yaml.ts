import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument } from "yaml";
import type { Node as YamlNode } from "yaml";
import type { Diagnostic } from "../shared/diagnostic.ts";

/** Limits applied to untrusted YAML before GitHub's parser sees it. */
export const YAML_LIMITS = {
  /** Bytes of UTF-8; GitHub itself refuses workflow files above 512 KiB, so 1 MiB leaves room. */
  maxBytes: 1024 * 1024,
  /** Nodes after expanding every alias; a billion-laughs document exceeds this within a few levels. */
  maxNodes: 200_000,
  /** Nesting depth after alias expansion; real workflows stay below 20. */
  maxDepth: 100,
} as const;

/** What the preflight learned: problems, and the true values of multi-line strings by `line:col`. */
export interface YamlPreflight {
  diagnostics: Diagnostic[];
  /**
   * The resolved value of each multi-line string scalar, keyed by `"line:col"` of its start.
   * GitHub's parser builds expressions in multi-line strings from the raw source text (keeping
   * indentation and skipping folding), so the loader rebuilds those expressions from these values.
   */
  multilineStrings: Map<string, string>;
  /** False when the document must not be handed to the parser at all. */
  ok: boolean;
}

const MAX_SHAPE_DIAGNOSTICS = 20;

/**
 * Checks untrusted YAML for size, alias expansion, nesting depth, key types and scalar types in
 * time linear in the document, without recursion, so hostile input yields a diagnostic instead
 * of a hang or a stack overflow inside the recursive workflow parser.
 *
 * @example
 * const pre = preflightYaml(text, ".github/workflows/ci.yml");
 * if (!pre.ok) return { value: undefined, diagnostics: pre.diagnostics };
 */
export function preflightYaml(content: string, file: string): YamlPreflight {
  const diagnostics: Diagnostic[] = [];
  const multilineStrings = new Map<string, string>();
  const bytes = Buffer.byteLength(content, "utf8");
  if (bytes > YAML_LIMITS.maxBytes) {
    diagnostics.push({
      severity: "error",
      message: `file is ${bytes} bytes; actvm reads YAML files of at most ${YAML_LIMITS.maxBytes} bytes`,
      file,
      hint: "split the workflow, or move long scripts into files in the repository and run them from a step",
    });
    return { diagnostics, multilineStrings, ok: false };
  }

  const lineCounter = new LineCounter();
  const doc = parseDocument(content, { lineCounter, keepSourceTokens: false, uniqueKeys: false });
  const where = (offset: number | undefined): { line?: number; col?: number } => {
    if (offset === undefined) return {};
    const p = lineCounter.linePos(offset);
    return { line: p.line, col: p.col };
  };

  // Syntax errors are reported by the workflow parser with the same positions; only the
  // stack-overflow case needs a clearer message than the yaml library's.
  for (const err of doc.errors) {
    if (/call stack/i.test(err.message)) {
      diagnostics.push({
        severity: "error",
        message: "YAML nesting is too deep to read",
        file,
        ...where(err.pos[0]),
        hint: `nest at most ${YAML_LIMITS.maxDepth} levels`,
      });
      return { diagnostics, multilineStrings, ok: false };
    }
  }
  if (doc.errors.length > 0) return { diagnostics, multilineStrings, ok: true };

  if (doc.directives?.yaml.version === "1.1") {
    diagnostics.push({
      severity: "error",
      message: "YAML 1.1 documents are not supported: keys such as `on` would read as booleans",
      file,
      line: 1,
      col: 1,
      hint: "remove the %YAML 1.1 directive; GitHub reads workflows as YAML 1.2",
    });
    return { diagnostics, multilineStrings, ok: false };
  }

  const root = doc.contents as YamlNode | null;
  if (root === null) return { diagnostics, multilineStrings, ok: true };

  // Iterative post-order walk with memoised sizes, so shared anchors are measured once and an
  // alias bomb is detected after visiting each distinct node a single time.
  const size = new Map<YamlNode, number>();
  const depth = new Map<YamlNode, number>();
  const active = new Set<YamlNode>();
  const stack: { node: YamlNode; exit: boolean }[] = [{ node: root, exit: false }];
  let shapeProblems = 0;
  const shape = (message: string, offset: number | undefined, hint: string): void => {
    if (shapeProblems++ < MAX_SHAPE_DIAGNOSTICS) {
      diagnostics.push({ severity: "error", message, file, ...where(offset), hint });
    }
  };
  const children = (node: YamlNode): YamlNode[] => {
    if (isAlias(node)) {
      const target = node.resolve(doc);
      return target ? [target as YamlNode] : [];
    }
    if (isMap(node)) {
      const out: YamlNode[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key as YamlNode | null;
        if (key !== null) out.push(key);
        const value = pair.value as YamlNode | null;
        if (value !== null) out.push(value);
      }
      return out;
    }
    if (isSeq(node)) return node.items.filter((i): i is YamlNode => i !== null) as YamlNode[];
    return [];
  };

  while (stack.length > 0) {
    const frame = stack.pop()!;
    const node = frame.node;
    if (!frame.exit) {
      if (size.has(node)) continue;
      if (active.has(node)) {
        shape(
          "an alias refers to a node that contains it",
          node.range?.[0],
          "remove the recursive alias",
        );
        return { diagnostics, multilineStrings, ok: false };
      }
      active.add(node);
      stack.push({ node, exit: true });
      inspect(node);
      for (const child of children(node)) {
        if (active.has(child)) {
          shape(
            "an alias refers to a node that contains it",
            child.range?.[0],
            "remove the recursive alias",
          );
          return { diagnostics, multilineStrings, ok: false };
        }
        if (!size.has(child)) stack.push({ node: child, exit: false });
      }
      continue;
    }
    active.delete(node);
    let total = isAlias(node) ? 0 : 1;
    let deepest = 0;
    for (const child of children(node)) {
      total += size.get(child) ?? 0;
      deepest = Math.max(deepest, depth.get(child) ?? 0);
    }
    const d = deepest + (isAlias(node) ? 0 : 1);
    size.set(node, total);
    depth.set(node, d);
    if (total > YAML_LIMITS.maxNodes) {
      diagnostics.push({
        severity: "error",
        message: `the document expands to more than ${YAML_LIMITS.maxNodes} values (aliases are expanded)`,
        file,
        ...where(node.range?.[0]),
        hint: "anchors and aliases that reference each other multiply the document; write the values out or simplify",
      });
      return { diagnostics, multilineStrings, ok: false };
    }
    if (d > YAML_LIMITS.maxDepth) {
      diagnostics.push({
        severity: "error",
        message: `YAML nesting is deeper than ${YAML_LIMITS.maxDepth} levels`,
        file,
        ...where(node.range?.[0]),
        hint: `nest at most ${YAML_LIMITS.maxDepth} levels`,
      });
      return { diagnostics, multilineStrings, ok: false };
    }
  }
  return { diagnostics, multilineStrings, ok: shapeProblems === 0 };

  function inspect(node: YamlNode): void {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = pair.key as YamlNode | null;
        if (key === null) continue;
        if (!isScalar(key) || typeof key.value !== "string") {
          const shown = isScalar(key) ? String(key.value) : "a collection";
          shape(
            `mapping key ${shown} is not a string`,
            key.range?.[0],
            'quote the key (for example "1": ...); GitHub reads every key as a string',
          );
        }
      }
      return;
    }
    if (!isScalar(node)) return;
    const v: unknown = node.value;
    if (v !== null && typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      shape(
        `unsupported YAML value of type ${v instanceof Uint8Array ? "binary" : typeof v}`,
        node.range?.[0],
        "remove the YAML tag (such as !!binary); workflows hold strings, numbers, booleans and null",
      );
      return;
    }
    if (typeof v === "string" && node.range) {
      const start = lineCounter.linePos(node.range[0]);
      const end = lineCounter.linePos(node.range[1]);
      if (start.line !== end.line) multilineStrings.set(`${start.line}:${start.col}`, v);
    }
  }
}
