/** Where the QEMU driver's user-mode network puts the guest, its gateway and its DNS server. */
export const USER_NET = {
  address: "10.0.2.15/24",
  gateway: "10.0.2.2",
  dns: "10.0.2.3",
} as const;

/** Busybox applets the init script calls; the initramfs links each to busybox. */
export const INIT_APPLETS = [
  "sh",
  "mount",
  "umount",
  "insmod",
  "switch_root",
  "sleep",
  "poweroff",
  "cat",
  "grep",
  "rm",
  "ip",
] as const;

/**
 * The initramfs's `/init`: loads `modules` (already in dependency order) from `/lib/modules`,
 * waits up to 10 s for the root disk `/dev/vda`, mounts it, configures the NIC when the kernel
 * command line says `actvm.net=user`, and hands over to the root disk's `/sbin/actvm-init`.
 * Any failure is printed to the serial console with its reason and the VM powers off, so the
 * host sees a prompt exit and the reason in the console log instead of a hang.
 */
export function initramfsInitScript(modules: readonly string[]): string {
  for (const m of modules) {
    if (!/^[A-Za-z0-9_-]+$/.test(m)) throw new Error(`invalid module name ${JSON.stringify(m)}`);
  }
  return `#!/bin/sh
# actvm initramfs: the cloud kernel's virtio drivers are modules, so load them, then hand the
# root disk over to actvm-init.
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

fail() {
  echo "actvm-initramfs: $*"
  echo "actvm-initramfs: powering off"
  poweroff -f
  # Only reached when poweroff itself failed; ending PID 1 panics, and panic=-1 ends QEMU.
  exit 1
}

mount -t proc proc /proc || fail "cannot mount /proc"
mount -t sysfs sysfs /sys || fail "cannot mount /sys"

for m in ${modules.join(" ")}; do
  insmod "/lib/modules/$m.ko" || fail "could not load kernel module $m"
done

tries=0
while [ ! -b /dev/vda ]; do
  tries=$((tries + 1))
  [ "$tries" -le 100 ] || fail "no root disk: /dev/vda did not appear within 10 s"
  sleep 0.1
done
mount -t ext4 -o rw,noatime /dev/vda /newroot || fail "cannot mount the root disk /dev/vda"
[ -x /newroot/sbin/actvm-init ] || fail "the root disk has no executable /sbin/actvm-init"

ip link set lo up 2>/dev/null
if grep -q "actvm.net=user" /proc/cmdline; then
  [ -e /sys/class/net/eth0 ] || fail "network was requested but the guest has no eth0"
  ip link set eth0 up || fail "cannot bring eth0 up"
  ip addr add ${USER_NET.address} dev eth0 || fail "cannot address eth0"
  ip route add default via ${USER_NET.gateway} || fail "cannot add the default route"
  # The root disk is a per-VM overlay, so this write never reaches the base image.
  rm -f /newroot/etc/resolv.conf
  echo "nameserver ${USER_NET.dns}" >/newroot/etc/resolv.conf
fi

umount /proc /sys
# Keep the console open across switch_root: actvm-init mounts its own /proc, /sys and /dev.
mount -o move /dev /newroot/dev 2>/dev/null || umount -l /dev
exec switch_root /newroot /sbin/actvm-init
fail "switch_root failed"
`;
}
