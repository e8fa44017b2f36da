import { describe, expect, it } from "vitest";
import { buildQemuArgs, type QemuArgsInput } from "./qemu-args.ts";

const base: QemuArgsInput = {
  accel: "tcg",
  cpus: 2,
  memoryMb: 1536,
  kernel: "/k/vmlinuz",
  initrd: "/k/initrd.gz",
  rootDisk: "/vms/a/overlay.qcow2",
  agentSocket: "/vms/a/agent.sock",
  qmpSocket: "/vms/a/qmp.sock",
  network: false,
  hostname: "actvm",
};

function after(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1] as string] : []));
}

describe("buildQemuArgs", () => {
  it("boots a microvm with the given size, accelerator and kernel command line", () => {
    const args = buildQemuArgs(base);
    expect(after(args, "-M")).toEqual(["microvm,acpi=on"]);
    expect(after(args, "-accel")).toEqual(["tcg"]);
    expect(after(args, "-m")).toEqual(["1536"]);
    expect(after(args, "-smp")).toEqual(["2"]);
    expect(args).not.toContain("-cpu");
    const append = after(args, "-append")[0] ?? "";
    expect(append.split(" ")).toEqual(
      expect.arrayContaining(["acpi=on", "panic=-1", "actvm.hostname=actvm"]),
    );
    expect(append).not.toContain("actvm.net");
  });

  it("hands the guest its TSC rate only when one is given", () => {
    expect(after(buildQemuArgs(base), "-append")[0]).not.toContain("tsc_early_khz");
    const withTsc = buildQemuArgs({ ...base, tscKhz: 2596120.4 });
    expect(after(withTsc, "-append")[0]?.split(" ")).toContain("tsc_early_khz=2596120");
  });

  it("passes the host CPU through under KVM only", () => {
    expect(after(buildQemuArgs({ ...base, accel: "kvm" }), "-cpu")).toEqual(["host"]);
  });

  it("has no NIC by default and user-mode NAT when the job asks for network", () => {
    const off = buildQemuArgs(base);
    expect(after(off, "-nic")).toEqual(["none"]);
    expect(off).not.toContain("-netdev");
    const on = buildQemuArgs({ ...base, network: true });
    expect(on).not.toContain("-nic");
    expect(after(on, "-netdev")).toEqual(["user,id=net0"]);
    expect(after(on, "-device")).toContain("virtio-net-device,netdev=net0");
    expect(after(on, "-append")[0]).toContain("actvm.net=user");
  });

  it("turns QEMU's seccomp sandbox on and denies spawning and privilege changes", () => {
    const sandbox = after(buildQemuArgs(base), "-sandbox")[0] ?? "";
    expect(sandbox.split(",")).toEqual(
      expect.arrayContaining(["on", "elevateprivileges=deny", "spawn=deny", "obsolete=deny"]),
    );
  });

  it("boots the overlay, never the base image, and puts the agent on a named port", () => {
    const args = buildQemuArgs(base);
    expect(after(args, "-drive")[0]).toMatch(/^file=\/vms\/a\/overlay\.qcow2,format=qcow2,/);
    expect(after(args, "-chardev")).toContain(
      "socket,id=agent,path=/vms/a/agent.sock,server=on,wait=off",
    );
    expect(after(args, "-device")).toContain("virtserialport,chardev=agent,name=actvm.agent");
  });

  it("doubles commas in paths so they cannot inject QEMU options", () => {
    const args = buildQemuArgs({ ...base, rootDisk: "/x,format=raw/o.qcow2" });
    expect(after(args, "-drive")[0]).toMatch(/^file=\/x,,format=raw\/o\.qcow2,format=qcow2,/);
  });

  it("rejects a hostname that could smuggle kernel parameters", () => {
    expect(() => buildQemuArgs({ ...base, hostname: "a init=/bin/sh" })).toThrow(/hostname/);
  });
});
