import { describe, expect, it } from "vitest";
import { buildBwrapArgs, stateDirToHide, type BwrapArgsInput } from "./bwrap-args.ts";

const input: BwrapArgsInput = {
  hostPaths: {
    workspace: "/s/vms/v/workspace",
    temp: "/s/vms/v/temp",
    toolCache: "/s/vms/v/tool-cache",
    actions: "/s/vms/v/actions",
    home: "/s/vms/v/home",
  },
  network: false,
  stateDir: "/var/lib/actvm",
  agentBundle: "/opt/actvm/dist/agent.cjs",
  nodePath: "/usr/bin/node",
  dropCapabilities: false,
  env: { PATH: "/usr/bin:/bin", HOME: "/home/runner" },
};

/** Index of the first occurrence of a flag followed by the given operands. */
function at(args: string[], ...seq: string[]): number {
  for (let i = 0; i <= args.length - seq.length; i++) {
    if (seq.every((s, j) => args[i + j] === s)) return i;
  }
  return -1;
}

describe("buildBwrapArgs", () => {
  it("unshares everything and shares the network only on request", () => {
    const off = buildBwrapArgs(input);
    expect(off).toContain("--unshare-all");
    expect(off).not.toContain("--share-net");
    expect(buildBwrapArgs({ ...input, network: true })).toContain("--share-net");
  });

  it("dies with its parent and starts a new session", () => {
    const args = buildBwrapArgs(input);
    expect(args).toContain("--die-with-parent");
    expect(args).toContain("--new-session");
  });

  it("hides sensitive host directories before binding the VM's directories over them", () => {
    const args = buildBwrapArgs(input);
    const roRoot = at(args, "--ro-bind", "/", "/");
    expect(roRoot).toBeGreaterThanOrEqual(0);
    for (const dir of ["/home", "/root", "/tmp", "/run", "/var/tmp", "/var/lib/actvm"]) {
      const hidden = at(args, "--tmpfs", dir);
      expect(hidden, dir).toBeGreaterThan(roRoot);
    }
    const home = at(args, "--bind", "/s/vms/v/home", "/home/runner");
    const ws = at(args, "--bind", "/s/vms/v/workspace", "/home/runner/work/workspace");
    expect(home).toBeGreaterThan(at(args, "--tmpfs", "/home"));
    expect(ws).toBeGreaterThan(home);
  });

  it("binds the agent read-only and runs it with a cleared environment as the sandbox's process", () => {
    const args = buildBwrapArgs(input);
    expect(
      at(args, "--ro-bind", "/opt/actvm/dist/agent.cjs", "/run/actvm/agent.cjs"),
    ).toBeGreaterThan(at(args, "--tmpfs", "/run"));
    expect(args).toContain("--clearenv");
    expect(at(args, "--setenv", "HOME", "/home/runner")).toBeGreaterThan(at(args, "--clearenv"));
    expect(args.slice(-3)).toEqual(["--", "/run/actvm/node", "/run/actvm/agent.cjs"]);
    expect(at(args, "--chdir", "/home/runner/work/workspace")).toBeGreaterThanOrEqual(0);
    expect(at(args, "--hostname", "actvm")).toBeGreaterThanOrEqual(0);
  });

  it("drops capabilities only when asked", () => {
    expect(at(buildBwrapArgs(input), "--cap-drop", "ALL")).toBe(-1);
    expect(
      at(buildBwrapArgs({ ...input, dropCapabilities: true }), "--cap-drop", "ALL"),
    ).toBeGreaterThan(0);
  });

  it("binds the real resolv.conf only for networked sandboxes", () => {
    const resolvConf = { target: "/run/systemd/resolve/stub-resolv.conf", source: "/run/x.conf" };
    expect(buildBwrapArgs({ ...input, resolvConf })).not.toContain(resolvConf.target);
    const args = buildBwrapArgs({ ...input, network: true, resolvConf });
    expect(at(args, "--ro-bind", resolvConf.source, resolvConf.target)).toBeGreaterThan(
      at(args, "--tmpfs", "/run"),
    );
  });
});

describe("buildBwrapArgs with runAs", () => {
  const runAs = { uid: 65534, gid: 65534, setpriv: "/usr/bin/setpriv" };

  it("unshares every namespace but the user one and keeps the network off by default", () => {
    const args = buildBwrapArgs({ ...input, runAs });
    expect(args).not.toContain("--unshare-all");
    expect(args).not.toContain("--unshare-user");
    for (const ns of ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net"]) {
      expect(args).toContain(ns);
    }
    expect(buildBwrapArgs({ ...input, runAs, network: true })).not.toContain("--unshare-net");
  });

  it("starts the agent through setpriv as the given user with no capabilities left", () => {
    const args = buildBwrapArgs({ ...input, runAs });
    const start = args.indexOf("--") + 1;
    expect(args.slice(start)).toEqual([
      "/usr/bin/setpriv",
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "--inh-caps=-all",
      "--bounding-set=-all",
      "--no-new-privs",
      "--",
      "/run/actvm/node",
      "/run/actvm/agent.cjs",
    ]);
    expect(at(args, "--cap-drop", "ALL")).toBeGreaterThan(0);
    expect(args.filter((a) => a === "--cap-add")).toHaveLength(3);
  });
});

describe("stateDirToHide", () => {
  it("hides the base directory's parent", () => {
    expect(stateDirToHide("/var/lib/actvm/vms")).toBe("/var/lib/actvm");
  });

  it("hides only the base directory when its parent is a top-level system directory", () => {
    expect(stateDirToHide("/var/vms")).toBe("/var/vms");
    expect(stateDirToHide("/vms")).toBe("/vms");
  });

  it("adds nothing for a state directory that is already hidden", () => {
    expect(stateDirToHide("/home/u/.local/state/actvm/vms")).toBeNull();
    expect(stateDirToHide("/tmp/x/vms")).toBeNull();
  });
});
