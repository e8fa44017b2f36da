const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Deep-merges a user's payload (from `-e`) over a default one, as act does: objects merge key
 * by key, anything else (arrays included) from `override` replaces the default. Neither input
 * is modified and prototype-changing keys are skipped.
 *
 * @example
 * mergeEventPayload(defaultEventPayload("push", git), userPayload);
 */
export function mergeEventPayload(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) if (!UNSAFE_KEYS.has(k)) out[k] = v;
  for (const [k, v] of Object.entries(override)) {
    if (UNSAFE_KEYS.has(k)) continue;
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? mergeEventPayload(prev, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
