import {
  BasicExpressionToken,
  MappingToken,
  SequenceToken,
} from "@actions/workflow-parser/templates/tokens/index";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import {
  isBasicExpression,
  isBoolean,
  isMapping,
  isNumber,
  isSequence,
  isString,
} from "@actions/workflow-parser/templates/tokens/type-guards";
import type { SourceLocation } from "./model.ts";

/**
 * Helpers for reading `@actions/workflow-parser` token trees: positions, scalar text, and the
 * repair of expressions inside multi-line strings.
 */
export const templateTokens = {
  /** 1-based position of `token` in `file`, or line 1 col 1 when the parser gave none. */
  locate(token: TemplateToken | undefined, file: string): SourceLocation {
    const start = token?.range?.start;
    return { file, line: start?.line ?? 1, col: start?.column ?? 1 };
  },

  /** The value of a mapping key, or undefined when absent. */
  get(mapping: TemplateToken | undefined, key: string): TemplateToken | undefined {
    return mapping && isMapping(mapping) ? mapping.find(key) : undefined;
  },

  /**
   * A scalar as text: strings as-is, numbers and booleans stringified, expressions as the user
   * wrote them (`${{ ... }}`); undefined for null, mappings and sequences.
   */
  text(token: TemplateToken | undefined): string | undefined {
    if (!token) return undefined;
    if (isString(token)) return token.value;
    if (isNumber(token) || isBoolean(token)) return String(token.value);
    if (isBasicExpression(token)) {
      // A string mixing text and expressions keeps its text in `source`; a lone expression's
      // `source` is the raw YAML (quotes included), so rebuild it from the expression.
      if (token.originalExpressions?.length && token.source !== undefined) return token.source;
      return `\${{ ${token.expression} }}`;
    }
    return undefined;
  },

  /**
   * Rebuilds expressions that GitHub's parser derived from the raw source of multi-line strings
   * (which keeps YAML indentation and ignores folding), using the resolved YAML values instead,
   * so `run: |` scripts with `${{ }}` evaluate to exactly the text the user meant.
   */
  repair(token: TemplateToken, multiline: ReadonlyMap<string, string>): TemplateToken {
    if (multiline.size === 0) return token;
    if (isBasicExpression(token)) return repairExpression(token, multiline);
    if (isMapping(token)) {
      const pairs = [...token].map((p) => ({
        key: p.key,
        value: templateTokens.repair(p.value, multiline),
      }));
      if (pairs.every((p, i) => p.value === token.get(i).value)) return token;
      const out = new MappingToken(token.file, token.range, token.definitionInfo);
      for (const p of pairs) out.add(p.key, p.value);
      return out;
    }
    if (isSequence(token)) {
      const items = [...token].map((t) => templateTokens.repair(t, multiline));
      if (items.every((t, i) => t === token.get(i))) return token;
      const out = new SequenceToken(token.file, token.range, token.definitionInfo);
      for (const t of items) out.add(t);
      return out;
    }
    return token;
  },
};

const OPEN = "${{";

function repairExpression(
  token: BasicExpressionToken,
  multiline: ReadonlyMap<string, string>,
): TemplateToken {
  const range = token.range;
  if (!range || range.start.line === range.end.line) return token;
  const value = multiline.get(`${range.start.line}:${range.start.column}`);
  if (value === undefined) return token;
  const segments = splitExpressions(value);
  if (!segments) return token;
  const first = segments[0];
  if (segments.length === 1 && first && first.kind === "expr") {
    return new BasicExpressionToken(
      token.file,
      range,
      first.text,
      token.definitionInfo,
      undefined,
      value,
      undefined,
      token.blockScalarHeader,
    );
  }
  let format = "";
  let args = "";
  let n = 0;
  for (const s of segments) {
    if (s.kind === "lit") {
      // Same escaping as GitHub's parser: quotes doubled, braces doubled for format().
      format += s.text.replace(/'/g, "''").replace(/\{/g, "{{").replace(/\}/g, "}}");
    } else {
      format += `{${n++}}`;
      args += `, ${s.text}`;
    }
  }
  return new BasicExpressionToken(
    token.file,
    range,
    `format('${format}'${args})`,
    token.definitionInfo,
    token.originalExpressions?.length ? token.originalExpressions : [token],
    value,
    undefined,
    token.blockScalarHeader,
  );
}

/** Splits text into literal and `${{ }}` segments; undefined when an expression is unclosed. */
function splitExpressions(text: string): { kind: "lit" | "expr"; text: string }[] | undefined {
  const out: { kind: "lit" | "expr"; text: string }[] = [];
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf(OPEN, i);
    if (start < 0) {
      out.push({ kind: "lit", text: text.slice(i) });
      break;
    }
    if (start > i) out.push({ kind: "lit", text: text.slice(i, start) });
    let inString = false;
    let end = -1;
    for (let j = start + OPEN.length; j < text.length; j++) {
      const c = text[j];
      if (c === "'") inString = !inString;
      else if (!inString && c === "}" && text[j - 1] === "}") {
        end = j;
        break;
      }
    }
    if (end < 0) return undefined;
    out.push({ kind: "expr", text: text.slice(start + OPEN.length, end - 1).trim() });
    i = end + 1;
  }
  return out;
}
