import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import { isNumber } from "@actions/workflow-parser/templates/tokens/type-guards";
import type { Diagnostic } from "../shared/diagnostic.ts";
import { templateTokens } from "./template-tokens.ts";

/** A week; longer limits are almost certainly typos (GitHub's own ceiling is 5 days on self-hosted runners). */
const MAX_TIMEOUT_MINUTES = 7 * 24 * 60;

/**
 * Checks a literal `timeout-minutes`: it must be a positive, finite number of at most a week.
 * Expressions are checked when evaluated, so they pass here.
 */
export function checkTimeoutMinutes(
  token: TemplateToken | undefined,
  file: string,
): Diagnostic | undefined {
  if (!token || !isNumber(token)) return undefined;
  const v = token.value;
  if (Number.isFinite(v) && v > 0 && v <= MAX_TIMEOUT_MINUTES) return undefined;
  return {
    severity: "error",
    message: `timeout-minutes must be a positive number of at most ${MAX_TIMEOUT_MINUTES}, not ${v}`,
    ...templateTokens.locate(token, file),
    hint: "GitHub's default is 360 minutes; remove the key to use it",
  };
}
