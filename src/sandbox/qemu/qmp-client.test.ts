import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connectQmp } from "./qmp-client.ts";

// A QMP peer that speaks the real wire format over a real unix socket.
function fakeQemu(path: string, onCommand: (cmd: Record<string, unknown>, s: Socket) => void) {
  const server = createServer((s) => {
    s.write('{"QMP": {"version": {}, "capabilities": []}}\r\n');
    let buf = "";
    s.on("data", (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const cmd = JSON.parse(line) as Record<string, unknown>;
        if (cmd.execute === "qmp_capabilities") s.write('{"return": {}}\r\n');
        else onCommand(cmd, s);
      }
    });
  });
  return new Promise<Server>((resolve) => server.listen(path, () => resolve(server)));
}

describe("QMP client", () => {
  let work: string;
  let server: Server | undefined;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), "actvm-qmp-"));
  });
  afterEach(async () => {
    server?.close();
    await rm(work, { recursive: true, force: true });
  });

  it("negotiates, answers commands in order, reports errors and waits for matching events", async () => {
    const path = join(work, "qmp.sock");
    server = await fakeQemu(path, (cmd, s) => {
      if (cmd.execute === "query-status") s.write('{"return": {"status": "paused"}}\r\n');
      else if (cmd.execute === "migrate-incoming") {
        s.write('{"return": {}}\r\n');
        s.write('{"event": "MIGRATION", "data": {"status": "active"}}\r\n');
        s.write('{"event": "MIGRATION", "data": {"status": "completed"}}\r\n');
      } else s.write('{"error": {"class": "CommandNotFound", "desc": "no such command"}}\r\n');
    });
    const qmp = await connectQmp(path, Date.now() + 2000);
    const done = qmp.waitForEvent("MIGRATION", 2000, (e) => e.data?.status === "completed");
    const [status, incoming] = await Promise.all([
      qmp.execute("query-status"),
      qmp.execute("migrate-incoming", { uri: "unix:/x" }),
    ]);
    expect(status).toEqual({ status: "paused" });
    expect(incoming).toEqual({});
    expect((await done).data).toEqual({ status: "completed" });
    await expect(qmp.execute("bogus")).rejects.toThrow(/CommandNotFound: no such command/);
    qmp.close();
  });

  it("fails pending commands and event waits when QEMU goes away", async () => {
    const path = join(work, "qmp.sock");
    server = await fakeQemu(path, (_cmd, s) => s.destroy());
    const qmp = await connectQmp(path, Date.now() + 2000);
    const event = qmp.waitForEvent("MIGRATION", 5000);
    await expect(qmp.execute("stop")).rejects.toThrow(/closed/);
    await expect(event).rejects.toThrow(/closed/);
    await expect(qmp.execute("cont")).rejects.toThrow(/closed/);
  });

  it("gives up connecting once the deadline passes", async () => {
    await expect(connectQmp(join(work, "absent.sock"), Date.now() + 100)).rejects.toThrow(/ENOENT/);
  });
});
