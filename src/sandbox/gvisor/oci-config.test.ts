import { describe, expect, it } from "vitest";
import { AGENT_PATH } from "../../image/index.ts";
import { BWRAP_GUEST_PATHS } from "../bwrap/bwrap-args.ts";
import { buildOciConfig, RUNNER_USER } from "./oci-config.ts";

const hostPaths = {
  workspace: "/v/workspace",
  temp: "/v/temp",
  toolCache: "/v/tool-cache",
  actions: "/v/actions",
  home: "/v/home",
};

const base = {
  rootfsDir: "/images/default-1/rootfs",
  hostPaths,
  env: { PATH: "/usr/bin:/bin", HOME: "/home/runner" },
};

describe("buildOciConfig", () => {
  it("starts the image's agent on stdio in the workspace as runner, without privileges", () => {
    const c = buildOciConfig({ ...base, network: false, user: RUNNER_USER });
    expect(c.process.args).toEqual(["node", AGENT_PATH]);
    expect(c.process.terminal).toBe(false);
    expect(c.process.cwd).toBe(BWRAP_GUEST_PATHS.workspace);
    expect(c.process.user).toMatchObject({ uid: 1001, gid: 1001 });
    expect(c.process.env).toEqual(["PATH=/usr/bin:/bin", "HOME=/home/runner"]);
    expect(c.process.capabilities.bounding).toEqual([]);
    expect(c.process.capabilities.effective).toEqual([]);
    expect(c.process.noNewPrivileges).toBe(true);
  });

  it("gives a root job the usual container capabilities but none that reach around gVisor", () => {
    const c = buildOciConfig({ ...base, network: false, user: { uid: 0, gid: 0 } });
    expect(c.process.capabilities.effective).toContain("CAP_CHOWN");
    expect(c.process.capabilities.bounding).not.toContain("CAP_SYS_ADMIN");
    expect(c.process.capabilities.bounding).not.toContain("CAP_NET_ADMIN");
  });

  it("uses the image tree as root and binds every VM directory at its guest path, home first", () => {
    const c = buildOciConfig({ ...base, network: false, user: RUNNER_USER });
    expect(c.root).toEqual({ path: base.rootfsDir, readonly: false });
    const binds = c.mounts.filter((m) => m.type === "bind");
    expect(binds.map((m) => [m.source, m.destination])).toEqual([
      [hostPaths.home, BWRAP_GUEST_PATHS.home],
      [hostPaths.workspace, BWRAP_GUEST_PATHS.workspace],
      [hostPaths.temp, BWRAP_GUEST_PATHS.temp],
      [hostPaths.actions, BWRAP_GUEST_PATHS.actions],
      [hostPaths.toolCache, BWRAP_GUEST_PATHS.toolCache],
    ]);
    expect(c.mounts.map((m) => m.destination)).toEqual(
      expect.arrayContaining(["/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"]),
    );
  });

  it("isolates the network unless asked, and then binds the host's resolver file", () => {
    const off = buildOciConfig({ ...base, network: false, user: RUNNER_USER, resolvConf: "/r" });
    expect(off.linux.namespaces.map((n) => n.type).sort()).toEqual(
      ["ipc", "mount", "network", "pid", "uts"].sort(),
    );
    expect(off.mounts.some((m) => m.destination === "/etc/resolv.conf")).toBe(false);
    const on = buildOciConfig({ ...base, network: true, user: RUNNER_USER, resolvConf: "/r" });
    expect(on.linux.namespaces.map((n) => n.type)).not.toContain("network");
    expect(on.mounts).toContainEqual(
      expect.objectContaining({ source: "/r", destination: "/etc/resolv.conf" }),
    );
    expect(on.mounts.find((m) => m.destination === "/etc/resolv.conf")?.options).toContain("ro");
  });
});
