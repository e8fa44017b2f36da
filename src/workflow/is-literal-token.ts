import {
  isLiteral,
  isMapping,
  isSequence,
} from "@actions/workflow-parser/templates/tokens/type-guards";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";

/**
 * True when a token holds no `${{ }}` anywhere (keys included), so it can be evaluated before
 * any context exists — e.g. to check a literal matrix while planning.
 */
export function isLiteralToken(token: TemplateToken): boolean {
  if (isLiteral(token)) return true;
  if (isSequence(token)) {
    for (const item of token) if (!isLiteralToken(item)) return false;
    return true;
  }
  if (isMapping(token)) {
    for (const { key, value } of token)
      if (!isLiteralToken(key) || !isLiteralToken(value)) return false;
    return true;
  }
  return false;
}
