import type { QemuAccel } from "./qemu-accel.ts";

/** Everything that varies between VMs on the QEMU command line. */
export interface QemuArgsInput {
  accel: QemuAccel;
  cpus: number;
  memoryMb: number;
  kernel: string;
  initrd: string;
  /** The VM's copy-on-write overlay (qcow2) over the read-only base image. */
  rootDisk: string;
  /** Unix socket QEMU listens on for the agent's virtio-serial port. */
  agentSocket: string;
  /** Unix socket QEMU listens on for QMP. */
  qmpSocket: string;
  /** User-mode NAT when true; no NIC at all otherwise. */
  network: boolean;
  hostname: string;
  /** The guest TSC's rate in kHz, passed as `tsc_early_khz=` so the kernel skips calibrating it. */
  tscKhz?: number;
}

/** Name of the virtio-serial port the guest's actvm-init looks for. */
export const AGENT_PORT_NAME = "actvm.agent";

/**
 * The `qemu-system-x86_64` arguments for one microVM: `-M microvm` (virtio-mmio devices found
 * through ACPI), the agent on a virtio-serial port backed by a unix socket, the serial console
 * on stdout, QMP for a clean quit, and QEMU's seccomp sandbox on.
 */
export function buildQemuArgs(input: QemuArgsInput): string[] {
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(input.hostname)) {
    throw new Error(`invalid guest hostname ${JSON.stringify(input.hostname)}`);
  }
  const cmdline = [
    "console=ttyS0",
    "acpi=on",
    // With -no-reboot, a guest panic ends QEMU at once instead of hanging the job.
    "panic=-1",
    "quiet",
    `actvm.hostname=${input.hostname}`,
  ];
  if (input.network) cmdline.push("actvm.net=user");
  if (input.tscKhz !== undefined) cmdline.push(`tsc_early_khz=${Math.round(input.tscKhz)}`);
  const args = [
    "-M",
    "microvm,acpi=on",
    "-accel",
    input.accel,
    ...(input.accel === "kvm" ? ["-cpu", "host"] : []),
    "-m",
    String(input.memoryMb),
    "-smp",
    String(input.cpus),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-no-reboot",
    "-kernel",
    input.kernel,
    "-initrd",
    input.initrd,
    "-append",
    cmdline.join(" "),
    "-drive",
    `file=${commaEscape(input.rootDisk)},format=qcow2,if=none,id=root,discard=unmap`,
    "-device",
    "virtio-blk-device,drive=root",
    "-device",
    "virtio-serial-device",
    "-chardev",
    `socket,id=agent,path=${commaEscape(input.agentSocket)},server=on,wait=off`,
    "-device",
    `virtserialport,chardev=agent,name=${AGENT_PORT_NAME}`,
    "-chardev",
    "stdio,id=console,signal=off",
    "-serial",
    "chardev:console",
    "-device",
    "virtio-rng-device",
    "-qmp",
    `unix:${commaEscape(input.qmpSocket)},server=on,wait=off`,
    "-sandbox",
    "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
  ];
  if (input.network) {
    args.push("-netdev", "user,id=net0", "-device", "virtio-net-device,netdev=net0");
  } else {
    args.push("-nic", "none");
  }
  return args;
}

/** QEMU option values are comma-separated; a literal comma in a path is written twice. */
function commaEscape(path: string): string {
  return path.replaceAll(",", ",,");
}
