import { randomBytes } from "node:crypto";

// Crockford's base32 in ascending ASCII order, so ids compare as strings in creation order.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const TIME_CHARS = 10; // 50 bits: milliseconds until the year 37648.
const RANDOM_CHARS = 16; // 80 bits: collisions within one millisecond are negligible.

/**
 * A sortable unique id: `prefix` + 10 base32 characters of the time in ms + 16 random ones.
 * Ids made in later milliseconds sort after earlier ones.
 *
 * @example
 * newSortableId("j_"); // "j_01hx3k9r2a…"
 */
export function newSortableId(
  prefix: string,
  now: number = Date.now(),
  random: (bytes: number) => Uint8Array = randomBytes,
): string {
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError(`invalid id time: ${now}`);
  let time = "";
  let t = now;
  for (let i = 0; i < TIME_CHARS; i++) {
    time = ALPHABET.charAt(t % 32) + time;
    t = Math.floor(t / 32);
  }
  const bytes = random(RANDOM_CHARS);
  let rand = "";
  for (let i = 0; i < RANDOM_CHARS; i++) rand += ALPHABET.charAt((bytes[i] ?? 0) % 32);
  return prefix + time + rand;
}

/** A new run id (`r_…`), sortable by creation time. */
export function newRunId(now: number = Date.now()): string {
  return newSortableId("r_", now);
}

/** The creation time (ms since the epoch) encoded in an id from {@link newSortableId}. */
export function sortableIdTime(id: string, prefix: string): number | undefined {
  if (!id.startsWith(prefix)) return undefined;
  const head = id.slice(prefix.length, prefix.length + TIME_CHARS);
  if (head.length !== TIME_CHARS) return undefined;
  let t = 0;
  for (const ch of head) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return undefined;
    t = t * 32 + v;
  }
  return t;
}
