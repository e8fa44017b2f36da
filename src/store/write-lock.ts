const tails = new Map<string, Promise<void>>();

/**
 * Runs `fn` after every earlier call with the same `key` has settled. Two stores in one process
 * on one SQLite file must not interleave write transactions: better-sqlite3 waits for a busy
 * lock synchronously, so the waiting connection would block the very thread that has to finish
 * the other transaction. The registry is per process by necessity, like the file lock it guards.
 */
export async function withWriteLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = before.then(() => mine);
  tails.set(key, tail);
  await before;
  try {
    return await fn();
  } finally {
    release();
    if (tails.get(key) === tail) tails.delete(key);
  }
}
