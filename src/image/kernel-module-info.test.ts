import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readKernelModuleInfo } from "./kernel-module-info.ts";

/** A minimal ELF64 with a section-name table and a `.modinfo` section holding `fields`. */
function fakeModule(fields: string[], sectionName = ".modinfo"): Buffer {
  const shstr = Buffer.from(`\0${sectionName}\0.shstrtab\0`, "latin1");
  const modinfo = Buffer.from(fields.map((f) => `${f}\0`).join(""), "latin1");
  const dataStart = 64;
  const modinfoOff = dataStart;
  const shstrOff = modinfoOff + modinfo.length;
  const shoff = shstrOff + shstr.length;
  const buf = Buffer.alloc(shoff + 3 * 64);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  buf.writeBigUInt64LE(BigInt(shoff), 0x28);
  buf.writeUInt16LE(64, 0x3a);
  buf.writeUInt16LE(3, 0x3c);
  buf.writeUInt16LE(2, 0x3e);
  modinfo.copy(buf, modinfoOff);
  shstr.copy(buf, shstrOff);
  const header = (i: number, name: number, off: number, size: number): void => {
    const at = shoff + i * 64;
    buf.writeUInt32LE(name, at);
    buf.writeBigUInt64LE(BigInt(off), at + 0x18);
    buf.writeBigUInt64LE(BigInt(size), at + 0x20);
  };
  header(1, 1, modinfoOff, modinfo.length);
  header(2, 2 + sectionName.length, shstrOff, shstr.length);
  return buf;
}

describe("readKernelModuleInfo", () => {
  it("reads the module's name and dependencies from .modinfo", () => {
    const ko = fakeModule([
      "license=GPL",
      "depends=virtio_ring,virtio,net_failover",
      "name=virtio_net",
    ]);
    expect(readKernelModuleInfo(ko)).toEqual({
      name: "virtio_net",
      depends: ["virtio_ring", "virtio", "net_failover"],
    });
  });

  it("reports no dependencies for an empty depends= field", () => {
    expect(readKernelModuleInfo(fakeModule(["depends=", "name=virtio_ring"])).depends).toEqual([]);
  });

  it("ignores look-alike strings outside the .modinfo section", () => {
    const ko = fakeModule(["depends=evil", "name=decoy"], ".rodata");
    expect(() => readKernelModuleInfo(ko)).toThrow(/no \.modinfo section/);
  });

  it("rejects files that are not ELF modules", () => {
    expect(() => readKernelModuleInfo(Buffer.from("#!/bin/sh\necho hi\n"))).toThrow(/not an ELF/);
  });

  it("checks every offset itself, so corrupt bytes give a clear error, not an out-of-range read", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 512 }), (bytes) => {
        const buf = Buffer.from(bytes);
        buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1].slice(0, buf.length), 0);
        try {
          readKernelModuleInfo(buf);
        } catch (err) {
          // A RangeError would mean Buffer caught a read past the end that the parser missed.
          expect(err).toBeInstanceOf(Error);
          expect(err).not.toBeInstanceOf(RangeError);
        }
      }),
    );
  });
});
