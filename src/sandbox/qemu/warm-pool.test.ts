import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createWarmPool } from "./warm-pool.ts";

interface Item {
  id: number;
  recipe: string;
  alive: boolean;
  disposed: boolean;
}

function harness(size: number, opts: { failFirst?: number; delayMs?: number } = {}) {
  let next = 1;
  let failures = opts.failFirst ?? 0;
  let concurrent = 0;
  let maxConcurrent = 0;
  const made: Item[] = [];
  const errors: unknown[] = [];
  const pool = createWarmPool<Item, string>({
    size,
    retryDelayMs: 20,
    async create(recipe) {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      try {
        await sleep(opts.delayMs ?? 5);
        if (failures > 0) {
          failures--;
          throw new Error("boot failed");
        }
        const item = { id: next++, recipe, alive: true, disposed: false };
        made.push(item);
        return item;
      } finally {
        concurrent--;
      }
    },
    async dispose(item) {
      item.disposed = true;
    },
    healthy: (item) => item.alive,
    onError: (err) => errors.push(err),
  });
  return { pool, made, errors, maxConcurrent: () => maxConcurrent };
}

describe("warm pool", () => {
  it("hands out nothing at first, then fills to its size in the background", async () => {
    const { pool, made } = harness(2);
    expect(pool.take("a", "recipe-a")).toBeUndefined();
    await pool.fill("a", "recipe-a");
    expect(pool.idle("a")).toBe(2);
    const item = pool.take("a", "recipe-a");
    expect(item?.recipe).toBe("recipe-a");
    expect(item?.disposed).toBe(false);
    // Taking one starts a refill up to the size again.
    await pool.fill("a", "recipe-a");
    expect(pool.idle("a")).toBe(2);
    expect(made).toHaveLength(3);
    await pool.close();
  });

  it("keeps keys apart and creates one item at a time across them", async () => {
    const { pool, maxConcurrent } = harness(2, { delayMs: 10 });
    await Promise.all([pool.fill("a", "A"), pool.fill("b", "B")]);
    expect(pool.take("a", "A")?.recipe).toBe("A");
    expect(pool.take("b", "B")?.recipe).toBe("B");
    expect(maxConcurrent()).toBe(1);
    await pool.close();
  });

  it("never hands out an item that died while waiting, and disposes of it", async () => {
    const { pool, made } = harness(1);
    await pool.fill("a", "A");
    const dead = made[0] as Item;
    dead.alive = false;
    expect(pool.take("a", "A")).toBeUndefined();
    expect(dead.disposed).toBe(true);
    await pool.fill("a", "A");
    const fresh = pool.take("a", "A");
    expect(fresh?.id).not.toBe(dead.id);
    expect(fresh?.alive).toBe(true);
    await pool.close();
  });

  it("reports a failed creation, backs off and then fills", async () => {
    const { pool, errors } = harness(1, { failFirst: 1 });
    await expect(pool.fill("a", "A")).rejects.toThrow("boot failed");
    expect(errors).toHaveLength(1);
    for (let i = 0; i < 100 && pool.idle("a") === 0; i++) await sleep(10);
    expect(pool.idle("a")).toBe(1);
    await pool.close();
  });

  it("removes an item without disposing it, so its owner can release it", async () => {
    const { pool, made } = harness(1);
    await pool.fill("a", "A");
    const item = made[0] as Item;
    expect(pool.remove(item)).toBe(true);
    expect(pool.remove(item)).toBe(false);
    expect(item.disposed).toBe(false);
    await pool.close();
  });

  it("close disposes idle items, and items finished after close, and stops refilling", async () => {
    const { pool, made } = harness(2, { delayMs: 30 });
    await pool.fill("a", "A");
    pool.take("a", "A");
    // Let the refill start; close waits for it and disposes its item too.
    await sleep(10);
    await pool.close();
    expect(made).toHaveLength(3);
    const undisposed = made.filter((m) => !m.disposed).map((m) => m.id);
    expect(undisposed).toEqual([1]);
    expect(pool.take("a", "A")).toBeUndefined();
    await sleep(60);
    expect(made).toHaveLength(3);
  });

  it("is inert with size 0", async () => {
    const { pool, made } = harness(0);
    await pool.fill("a", "A");
    expect(pool.take("a", "A")).toBeUndefined();
    await sleep(20);
    expect(made).toHaveLength(0);
    await pool.close();
  });
});
