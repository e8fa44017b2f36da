/**
 * Wraps a progress callback so a chatty build does not flood it: a line passes when it starts
 * a new phase (its first two words differ from the last line passed) or when `intervalMs` has
 * gone by since the last one; others are dropped.
 *
 * @example
 * const progress = throttleProgress((l) => console.error(l));
 */
export function throttleProgress(
  sink: ((line: string) => void) | undefined,
  intervalMs = 500,
  now: () => number = Date.now,
): (line: string) => void {
  if (!sink) return () => undefined;
  let lastAt = -Infinity;
  let lastPhase = "";
  return (line) => {
    const phase = line.trim().split(/\s+/).slice(0, 2).join(" ");
    const t = now();
    if (phase === lastPhase && t - lastAt < intervalMs) return;
    lastAt = t;
    lastPhase = phase;
    sink(line);
  };
}
