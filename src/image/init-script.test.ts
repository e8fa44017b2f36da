import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ACTVM_INIT_SCRIPT, AGENT_PATH, AGENT_PORT_NAME } from "./init-script.ts";

// The script is never run here: on a host it would mount over /dev and power the machine off.
describe("ACTVM_INIT_SCRIPT", () => {
  it("is valid POSIX sh", () => {
    execFileSync("dash", ["-n"], { input: ACTVM_INIT_SCRIPT });
    execFileSync("sh", ["-n"], { input: ACTVM_INIT_SCRIPT });
  });

  it("execs the agent on the port named actvm.agent and powers off without it", () => {
    expect(ACTVM_INIT_SCRIPT.startsWith("#!/bin/sh\n")).toBe(true);
    expect(ACTVM_INIT_SCRIPT).toContain(`exec node ${AGENT_PATH} --device "/dev/$port"`);
    expect(ACTVM_INIT_SCRIPT).toContain(`= "${AGENT_PORT_NAME}"`);
    expect(ACTVM_INIT_SCRIPT).toContain("/sys/class/virtio-ports/*");
    expect(ACTVM_INIT_SCRIPT).toContain("echo o >/proc/sysrq-trigger");
  });

  it("mounts the kernel file systems the guest needs", () => {
    for (const fs of ["sysfs", "devtmpfs", "devpts", "/dev/shm", "/tmp", "/run"])
      expect(ACTVM_INIT_SCRIPT).toContain(fs);
    expect(ACTVM_INIT_SCRIPT).toContain("actvm.hostname=");
    expect(ACTVM_INIT_SCRIPT).toContain("/etc/machine-id");
  });
});
