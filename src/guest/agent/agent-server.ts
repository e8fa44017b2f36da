import type { Readable, Writable } from "node:stream";
import { FrameDecoder } from "../protocol/frame-decoder.ts";
import type { HostMessage } from "../protocol/messages.ts";
import { validateHostMessage } from "../protocol/validate-message.ts";
import { AGENT_VERSION, PROTOCOL_VERSION } from "../protocol/version.ts";
import { FrameWriter } from "./frame-writer.ts";
import { hashFiles } from "./hash-files.ts";
import { killTracked } from "./process-tree.ts";
import { RunningCommand } from "./run-command.ts";
import { GetTransfer, PutTransfer } from "./tar-transfer.ts";

/** A duplex byte channel to the host. */
export interface AgentChannel {
  input: Readable;
  output: Writable;
}

/**
 * Serves one connection: announces itself with `hello`, answers requests until the channel
 * closes or breaks the protocol, then kills every command still running. Resolves when done.
 */
export async function serveConnection(channel: AgentChannel): Promise<void> {
  const writer = new FrameWriter(channel.output);
  const decoder = new FrameDecoder();
  const commands = new Map<number, RunningCommand>();
  // Tracking ids of every command of this connection, finished ones too: what they left running
  // in the background dies with the connection, as a job's leftovers die with the job.
  const issued = new Set<string>();
  const puts = new Map<number, PutTransfer>();
  const gets = new Map<number, GetTransfer>();
  const input = channel.input;
  // Several uploads may hold the channel at once; it flows again when the last one lets go.
  let holds = 0;
  const pause = (): void => {
    holds++;
    input.pause();
  };
  const resume = (): void => {
    holds = Math.max(0, holds - 1);
    if (holds === 0) input.resume();
  };

  const requestError = (id: number, code: string, message: string): void => {
    writer.send({ type: "error", id, code, message });
  };

  const handle = (msg: HostMessage, binary: Buffer): void => {
    switch (msg.type) {
      case "ping":
        writer.send({
          type: "pong",
          id: msg.id,
          version: AGENT_VERSION,
          node: process.version,
          platform: process.platform,
          pid: process.pid,
          time: Date.now(),
        });
        return;
      case "exec": {
        if (commands.has(msg.id)) return requestError(msg.id, "BAD_REQUEST", "duplicate id");
        const command = new RunningCommand(msg, writer);
        commands.set(msg.id, command);
        issued.add(command.trackingId);
        void command.run().then(() => commands.delete(msg.id));
        return;
      }
      case "signal": {
        const command = commands.get(msg.id);
        // Signalling a command that already ended is a no-op, as with kill(1) on a reaped pid.
        command?.signal(msg.signal);
        return;
      }
      case "put-begin":
        if (puts.has(msg.id)) return requestError(msg.id, "BAD_REQUEST", "duplicate id");
        puts.set(msg.id, new PutTransfer(msg.id, msg.dir, writer));
        return;
      case "put-data":
        // Data for an upload that already failed is expected in flight; drop it.
        puts.get(msg.id)?.write(binary, pause, resume);
        return;
      case "put-end": {
        const put = puts.get(msg.id);
        if (!put) return requestError(msg.id, "BAD_REQUEST", "no upload with this id");
        void put.end().finally(() => puts.delete(msg.id));
        return;
      }
      case "get": {
        if (gets.has(msg.id)) return requestError(msg.id, "BAD_REQUEST", "duplicate id");
        const get = new GetTransfer(msg.id, writer);
        gets.set(msg.id, get);
        void get.run(msg.path).finally(() => gets.delete(msg.id));
        return;
      }
      case "cancel":
        gets.get(msg.id)?.cancel();
        puts.get(msg.id)?.cancel();
        return;
      case "hash-files":
        hashFiles(msg.root, msg.patterns).then(
          (value) => writer.send({ type: "result", id: msg.id, value }),
          (err: Error) => requestError(msg.id, "HASH_FAILED", err.message),
        );
        return;
    }
  };

  await new Promise<void>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      input.off("data", onData);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        process.stderr.write(`actvm-agent: ${(err as Error).message}; closing\n`);
        writer.send({ type: "error", code: "PROTOCOL", message: (err as Error).message });
        finish();
        return;
      }
      for (const frame of frames) {
        let msg: HostMessage;
        try {
          msg = validateHostMessage(frame.json, frame.binary);
        } catch (err) {
          // A malformed message means the peer is broken or hostile: stop serving it.
          process.stderr.write(`actvm-agent: bad message: ${(err as Error).message}; closing\n`);
          writer.send({ type: "error", code: "PROTOCOL", message: (err as Error).message });
          finish();
          return;
        }
        handle(msg, frame.binary);
      }
    };
    input.on("data", onData);
    input.once("end", finish);
    input.once("close", finish);
    input.once("error", (err) => {
      process.stderr.write(`actvm-agent: channel read failed: ${err.message}\n`);
      finish();
    });
    channel.output.once("error", (err) => {
      process.stderr.write(`actvm-agent: channel write failed: ${err.message}\n`);
      finish();
    });
    writer.send({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      version: AGENT_VERSION,
      node: process.version,
      platform: process.platform,
      pid: process.pid,
    });
  });

  // Nobody is left to see the results: nothing the host started may keep running.
  for (const command of commands.values()) command.killAll();
  for (const get of gets.values()) get.cancel();
  for (const put of puts.values()) put.cancel();
  await Promise.all([...commands.values()].map((c) => c.done));
  killTracked(issued);
}
