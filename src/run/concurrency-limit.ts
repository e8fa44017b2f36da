/**
 * A counting semaphore for in-process concurrency (jobs across a run, legs of a matrix).
 * Waiters are served in FIFO order; an aborted waiter leaves the queue.
 */
export interface ConcurrencyLimit {
  /** Resolves with a release function once a slot is free. */
  acquire(signal?: AbortSignal): Promise<() => void>;
  readonly active: number;
  readonly waiting: number;
}

/** Creates a {@link ConcurrencyLimit} with `max` slots (at least 1). */
export function createConcurrencyLimit(max: number): ConcurrencyLimit {
  const limit = Math.max(1, Math.floor(max));
  let active = 0;
  const queue: Array<{ grant: () => void }> = [];

  const releaser = (): (() => void) => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      active--;
      const next = queue.shift();
      if (next) next.grant();
    };
  };

  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (active < limit) {
        active++;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve, reject) => {
        const entry = {
          grant: () => {
            signal?.removeEventListener("abort", onAbort);
            active++;
            resolve(releaser());
          },
        };
        const onAbort = () => {
          const i = queue.indexOf(entry);
          if (i >= 0) queue.splice(i, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        queue.push(entry);
      });
    },
  };
}
