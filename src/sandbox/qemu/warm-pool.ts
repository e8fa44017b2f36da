/** How a {@link WarmPool} makes, checks and disposes of its items. */
export interface WarmPoolOptions<T, R> {
  /** Items kept ready per key. 0 disables the pool (take never returns an item). */
  size: number;
  /** Makes one item for `recipe`; `signal` aborts when the pool closes. */
  create(recipe: R, signal: AbortSignal): Promise<T>;
  /** Gives an item back for good (never throws for one that is already gone). */
  dispose(item: T): Promise<void>;
  /** False for an item that died while it waited; it is disposed, never handed out. */
  healthy(item: T): boolean;
  /** A background creation failed; the pool backs off and tries again later. */
  onError?(err: unknown): void;
  /** Pause after a failed creation before the next attempt. Default 5 s, doubled up to 1 min. */
  retryDelayMs?: number;
}

/** Ready-made items per key, refilled in the background one at a time. */
export interface WarmPool<T, R> {
  /** A ready, healthy item for `key` (removed from the pool), or undefined; starts a refill. */
  take(key: string, recipe: R): T | undefined;
  /** Starts filling `key` and resolves once it holds `size` items (rejects if a creation fails). */
  fill(key: string, recipe: R): Promise<void>;
  /** Removes an item (e.g. one that died) without handing it out; returns whether it was pooled. */
  remove(item: T): boolean;
  /** Ready items for `key`. */
  idle(key: string): number;
  /** Stops refilling, waits for a creation in flight, and disposes every idle item. */
  close(): Promise<void>;
}

interface Slot<R> {
  recipe: R;
  ready: unknown[];
  failures: number;
  retryAt: number;
  waiters: { resolve(): void; reject(err: unknown): void }[];
}

/**
 * Creates a warm pool. Creations run one at a time across all keys: on a small host, two VMs
 * booting at once each take twice as long, which would delay the job waiting for one.
 */
export function createWarmPool<T, R>(options: WarmPoolOptions<T, R>): WarmPool<T, R> {
  const slots = new Map<string, Slot<R>>();
  const abort = new AbortController();
  const baseDelay = options.retryDelayMs ?? 5_000;
  let running: Promise<void> | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const slotOf = (key: string, recipe: R): Slot<R> => {
    let slot = slots.get(key);
    if (!slot) {
      slot = { recipe, ready: [], failures: 0, retryAt: 0, waiters: [] };
      slots.set(key, slot);
    }
    return slot;
  };

  const prune = (slot: Slot<R>): void => {
    for (const item of [...slot.ready]) {
      if (options.healthy(item as T)) continue;
      slot.ready.splice(slot.ready.indexOf(item), 1);
      void options.dispose(item as T).catch(() => undefined);
    }
  };

  const settleWaiters = (slot: Slot<R>, err?: unknown): void => {
    if (!err && slot.ready.length < options.size) return;
    for (const w of slot.waiters.splice(0)) {
      if (err) w.reject(err);
      else w.resolve();
    }
  };

  const nextKey = (): string | undefined => {
    const now = Date.now();
    for (const [key, slot] of slots) {
      prune(slot);
      if (slot.ready.length < options.size && slot.retryAt <= now) return key;
    }
    return undefined;
  };

  const schedule = (): void => {
    if (closed || running || options.size <= 0) return;
    const key = nextKey();
    if (key === undefined) {
      // Only keys that are backing off remain short; look again when the first may retry.
      const waits = [...slots.values()]
        .filter((s) => s.ready.length < options.size)
        .map((s) => s.retryAt - Date.now());
      if (waits.length > 0 && !retryTimer) {
        retryTimer = setTimeout(
          () => {
            retryTimer = undefined;
            schedule();
          },
          Math.max(0, Math.min(...waits)),
        );
        retryTimer.unref();
      }
      return;
    }
    const slot = slots.get(key) as Slot<R>;
    running = (async () => {
      try {
        const item = await options.create(slot.recipe, abort.signal);
        if (closed) {
          await options.dispose(item).catch(() => undefined);
          return;
        }
        slot.ready.push(item);
        slot.failures = 0;
        settleWaiters(slot);
      } catch (err) {
        if (closed) return;
        slot.failures++;
        slot.retryAt = Date.now() + Math.min(60_000, baseDelay * 2 ** (slot.failures - 1));
        options.onError?.(err);
        settleWaiters(slot, err);
      }
    })().finally(() => {
      running = undefined;
      schedule();
    });
  };

  return {
    take(key, recipe) {
      if (options.size <= 0 || closed) return undefined;
      const slot = slotOf(key, recipe);
      prune(slot);
      const item = slot.ready.shift() as T | undefined;
      schedule();
      return item;
    },

    fill(key, recipe) {
      if (options.size <= 0 || closed) return Promise.resolve();
      const slot = slotOf(key, recipe);
      prune(slot);
      if (slot.ready.length >= options.size) return Promise.resolve();
      // An explicit request retries at once instead of waiting out a backoff.
      slot.retryAt = 0;
      const done = new Promise<void>((resolve, reject) => slot.waiters.push({ resolve, reject }));
      schedule();
      return done;
    },

    remove(item) {
      for (const slot of slots.values()) {
        const i = slot.ready.indexOf(item);
        if (i >= 0) {
          slot.ready.splice(i, 1);
          schedule();
          return true;
        }
      }
      return false;
    },

    idle(key) {
      const slot = slots.get(key);
      if (!slot) return 0;
      prune(slot);
      return slot.ready.length;
    },

    async close() {
      if (closed) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      abort.abort();
      await running?.catch(() => undefined);
      const items = [...slots.values()].flatMap((s) => s.ready.splice(0));
      for (const slot of slots.values()) {
        for (const w of slot.waiters.splice(0)) w.resolve();
      }
      await Promise.all(items.map((i) => options.dispose(i as T).catch(() => undefined)));
    },
  };
}
