import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import type { BasicExpressionToken } from "@actions/workflow-parser/templates/tokens/basic-expression-token";
import type { BooleanToken } from "@actions/workflow-parser/templates/tokens/boolean-token";
import type { MappingToken } from "@actions/workflow-parser/templates/tokens/mapping-token";
import type { NumberToken } from "@actions/workflow-parser/templates/tokens/number-token";
import type { SequenceToken } from "@actions/workflow-parser/templates/tokens/sequence-token";
import type { StringToken } from "@actions/workflow-parser/templates/tokens/string-token";
// The token-type enum is read from its own module: the package root pulls in the workflow
// schema, whose JSON import plain Node rejects (actions/languageservices#387).
import { TokenType } from "@actions/workflow-parser/templates/tokens/types";
import { ActvmError } from "../shared/errors.ts";
import { evaluateExpression } from "./evaluate-expression.ts";
import { coerceToString, setOwn } from "./expression-data.ts";
import type { EvaluateOptions, ExpressionContexts, JsonValue, SourceLocation } from "./model.ts";

/**
 * Evaluates a template token to JSON: literals pass through, `${{ }}` expressions are evaluated
 * (mixed strings arrive from the parser as `format(...)`), mappings become objects whose keys
 * may be expressions too, sequences become arrays, and `${{ insert }}` keys merge their
 * mapping into the parent.
 *
 * @example
 * const runsOn = await evaluateToken(job.runsOn, { matrix: leg.values }); // "ubuntu-latest"
 */
export async function evaluateToken(
  token: TemplateToken,
  contexts: ExpressionContexts,
  opts: EvaluateOptions = {},
): Promise<JsonValue> {
  switch (token.templateTokenType as TokenType) {
    case TokenType.String:
      return (token as StringToken).value;
    case TokenType.Number:
      return (token as NumberToken).value;
    case TokenType.Boolean:
      return (token as BooleanToken).value;
    case TokenType.Null:
      return null;
    case TokenType.BasicExpression:
      return evaluateExpression((token as BasicExpressionToken).expression, contexts, {
        ...opts,
        location: locate(token, opts.location),
      });
    case TokenType.Sequence: {
      const out: JsonValue[] = [];
      for (const item of token as SequenceToken)
        out.push(await evaluateToken(item, contexts, opts));
      return out;
    }
    case TokenType.Mapping:
      return evaluateMapping(token as MappingToken, contexts, opts);
    case TokenType.InsertExpression:
      throw failAt(token, opts, "`${{ insert }}` may only be used as a mapping key");
  }
  throw failAt(token, opts, `unexpected ${token.typeName()} token`);
}

/**
 * Evaluates a token where GitHub needs a string (`run:`, `name:`, `env:` values): numbers as
 * GitHub prints them, booleans as `true`/`false`, null as "", objects and arrays as JSON.
 */
export async function evaluateTokenToString(
  token: TemplateToken,
  contexts: ExpressionContexts,
  opts: EvaluateOptions = {},
): Promise<string> {
  return coerceToString(await evaluateToken(token, contexts, opts));
}

/**
 * Evaluates an `env:` mapping to name → string. The token may be one expression producing a
 * mapping (e.g. `${{ fromJSON(...) }}`); anything that is not a mapping is an error, and a null
 * result is treated as an empty `env:`.
 */
export async function evaluateTokenToEnv(
  token: TemplateToken,
  contexts: ExpressionContexts,
  opts: EvaluateOptions = {},
): Promise<Record<string, string>> {
  const value = await evaluateToken(token, contexts, opts);
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw failAt(
      token,
      opts,
      `env must be a mapping of names to values, but it evaluated to ${describeValue(value)}`,
    );
  }
  const env: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) setOwn(env, name, coerceToString(v));
  return env;
}

async function evaluateMapping(
  mapping: MappingToken,
  contexts: ExpressionContexts,
  opts: EvaluateOptions,
): Promise<{ [key: string]: JsonValue }> {
  const out: { [key: string]: JsonValue } = {};
  for (const { key, value } of mapping) {
    if ((key.templateTokenType as TokenType) === TokenType.InsertExpression) {
      const inserted = await evaluateToken(value, contexts, opts);
      if (inserted === null) continue;
      if (typeof inserted !== "object" || Array.isArray(inserted)) {
        throw failAt(
          value,
          opts,
          `\`\${{ insert }}\` needs a mapping, but its value evaluated to ${describeValue(inserted)}`,
        );
      }
      for (const [k, v] of Object.entries(inserted)) setOwn(out, k, v);
      continue;
    }
    const name = await evaluateTokenToString(key, contexts, opts);
    setOwn(out, name, await evaluateToken(value, contexts, opts));
  }
  return out;
}

/** The token's own line and column within the caller's file, when the token knows them. */
function locate(
  token: TemplateToken,
  base: SourceLocation | undefined,
): SourceLocation | undefined {
  if (!base || token.line === undefined || token.col === undefined) return base;
  return { file: base.file, line: token.line, col: token.col };
}

function failAt(token: TemplateToken, opts: EvaluateOptions, message: string): ActvmError {
  const where = locate(token, opts.location);
  const prefix = where ? `${where.file}:${where.line}:${where.col}: ` : "";
  return new ActvmError("EXPRESSION", prefix + message);
}

function describeValue(value: JsonValue): string {
  if (Array.isArray(value)) return "a sequence";
  if (value === null) return "null";
  return `${typeof value} ${JSON.stringify(value)}`;
}
