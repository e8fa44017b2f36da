import { describe, expect, it } from "vitest";
import { moduleLoadOrder } from "./initramfs-module-order.ts";

const DEP = `kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko kernel/drivers/net/net_failover.ko
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/net/core/failover.ko:
kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio.ko
`;

describe("moduleLoadOrder", () => {
  it("loads every module after the modules it depends on", () => {
    const order = moduleLoadOrder(DEP, ["virtio_net", "virtio_mmio"]).map((m) => m.name);
    expect(new Set(order)).toEqual(
      new Set(["virtio_ring", "virtio", "failover", "net_failover", "virtio_net", "virtio_mmio"]),
    );
    const before = (a: string, b: string): boolean => order.indexOf(a) < order.indexOf(b);
    expect(before("virtio_ring", "virtio")).toBe(true);
    expect(before("virtio", "virtio_net")).toBe(true);
    expect(before("failover", "net_failover")).toBe(true);
    expect(before("net_failover", "virtio_net")).toBe(true);
  });

  it("maps dashed file names to the kernel's underscore module names", () => {
    const rng = moduleLoadOrder(DEP, ["virtio_rng"]).at(-1);
    expect(rng).toEqual({
      name: "virtio_rng",
      path: "kernel/drivers/char/hw_random/virtio-rng.ko",
    });
  });

  it("fails for a wanted module the kernel does not have", () => {
    expect(() => moduleLoadOrder(DEP, ["virtio_blk"])).toThrow(/no module "virtio_blk"/);
  });

  it("fails on a dependency cycle instead of looping", () => {
    expect(() => moduleLoadOrder("a.ko: b.ko\nb.ko: a.ko\n", ["a"])).toThrow(/cycle: a → b → a/);
  });
});
