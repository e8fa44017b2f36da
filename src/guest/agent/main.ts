// The guest agent: speaks the framed protocol over stdio, a device or a unix socket. It must
// run on Node 18 with no dependencies and write nothing but frames to its channel.
import { serveConnection } from "./agent-server.ts";
import { openChannel } from "./open-channel.ts";
import type { ChannelSpec } from "./open-channel.ts";

const USAGE = "usage: agent [--device PATH | --socket PATH]";

function parseArgs(argv: string[]): ChannelSpec {
  const [flag, path, ...rest] = argv;
  if (flag === undefined) return { kind: "stdio" };
  if ((flag === "--device" || flag === "--socket") && path && rest.length === 0) {
    return { kind: flag === "--device" ? "device" : "socket", path };
  }
  if (flag === "--help" || flag === "-h") {
    process.stderr.write(`${USAGE}\n`);
    process.exit(0);
  }
  process.stderr.write(`actvm-agent: unexpected arguments\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const spec = parseArgs(process.argv.slice(2));
  // A host that vanished must not take the agent down with EPIPE/SIGPIPE mid-cleanup.
  process.on("SIGPIPE", () => undefined);
  if (spec.kind !== "device") {
    const channel = await openChannel(spec);
    await serveConnection(channel);
    // Let queued frames reach the host before leaving, but never hang on a host that stopped
    // reading.
    channel.output.once("finish", () => process.exit(0));
    channel.output.once("error", () => process.exit(0));
    channel.close();
    setTimeout(() => process.exit(0), 2000).unref();
    return;
  }
  // A virtio-serial port outlives host connections (e.g. a snapshot restore reconnects), so the
  // agent reopens it and greets the new host instead of exiting.
  for (;;) {
    try {
      const channel = await openChannel(spec);
      await serveConnection(channel);
      channel.close();
    } catch (err) {
      process.stderr.write(`actvm-agent: ${spec.path}: ${(err as Error).message}\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`actvm-agent: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
