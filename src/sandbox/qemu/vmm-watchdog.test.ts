import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { startVmmWatchdog } from "./vmm-watchdog.ts";

describe("startVmmWatchdog", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill("SIGKILL");
    child = undefined;
  });

  const tripped = (opts: { pid: number; ping(): Promise<unknown> }): Promise<string> =>
    new Promise((resolve) => {
      startVmmWatchdog({ ...opts, intervalMs: 50, timeoutMs: 400, onTrip: resolve });
    });

  it("trips when the VMM process is stopped", async () => {
    child = spawn("sleep", ["30"]);
    const pid = child.pid as number;
    process.kill(pid, "SIGSTOP");
    const reason = await tripped({ pid, ping: async () => "pong" });
    expect(reason).toMatch(new RegExp(`process ${pid} has been stopped for`));
  });

  it("trips when the agent stops answering pings", async () => {
    child = spawn("sleep", ["30"]);
    const reason = await tripped({ pid: child.pid as number, ping: () => new Promise(() => {}) });
    expect(reason).toMatch(/has not answered a ping/);
  });

  it("stays quiet while the VMM runs and the agent answers, and stops cleanly", async () => {
    child = spawn("sleep", ["30"]);
    let pings = 0;
    let trips = 0;
    const dog = startVmmWatchdog({
      pid: child.pid as number,
      ping: async () => pings++,
      intervalMs: 20,
      timeoutMs: 100,
      onTrip: () => trips++,
    });
    await new Promise((r) => setTimeout(r, 400));
    dog.stop();
    expect(pings).toBeGreaterThan(3);
    expect(trips).toBe(0);
  });
});
