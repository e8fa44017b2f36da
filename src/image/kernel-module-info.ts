/** What a kernel module says about itself in its `.modinfo` ELF section. */
export interface KernelModuleInfo {
  /** The module's name as the kernel knows it (`virtio_rng` for `virtio-rng.ko`). */
  name: string;
  /** Names of the modules that must be loaded first. */
  depends: string[];
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/**
 * Reads `name=` and `depends=` from the `.modinfo` section of an uncompressed 64-bit
 * little-endian kernel module, the same facts `modinfo` and `depmod` use. Parsing the ELF
 * section headers rather than grepping the bytes keeps a string in the code or data of a
 * module from being mistaken for its metadata. Throws for anything that is not such a module.
 */
export function readKernelModuleInfo(ko: Buffer): KernelModuleInfo {
  if (ko.length < 64 || !ko.subarray(0, 4).equals(ELF_MAGIC)) {
    throw new Error("not an ELF file");
  }
  if (ko[4] !== 2 || ko[5] !== 1) throw new Error("not a 64-bit little-endian ELF file");
  const shoff = Number(ko.readBigUInt64LE(0x28));
  const shentsize = ko.readUInt16LE(0x3a);
  const shnum = ko.readUInt16LE(0x3c);
  const shstrndx = ko.readUInt16LE(0x3e);
  if (shentsize < 64 || shoff + shnum * shentsize > ko.length || shstrndx >= shnum) {
    throw new Error("truncated or corrupt ELF section table");
  }
  const section = (i: number): { name: number; offset: number; size: number } => {
    const at = shoff + i * shentsize;
    const offset = Number(ko.readBigUInt64LE(at + 0x18));
    const size = Number(ko.readBigUInt64LE(at + 0x20));
    if (offset + size > ko.length) throw new Error(`ELF section ${i} lies outside the file`);
    return { name: ko.readUInt32LE(at), offset, size };
  };
  const names = section(shstrndx);
  const sectionName = (nameOffset: number): string => {
    const start = names.offset + nameOffset;
    const end = ko.indexOf(0, start);
    return ko.toString("latin1", start, end < 0 ? names.offset + names.size : end);
  };
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (sectionName(s.name) !== ".modinfo") continue;
    const fields = ko
      .toString("latin1", s.offset, s.offset + s.size)
      .split("\0")
      .filter((f) => f.includes("="));
    const value = (key: string): string | undefined =>
      fields.find((f) => f.startsWith(`${key}=`))?.slice(key.length + 1);
    const name = value("name");
    if (!name) throw new Error(".modinfo has no name= field");
    const depends = (value("depends") ?? "").split(",").filter((d) => d.length > 0);
    return { name, depends };
  }
  throw new Error("no .modinfo section: not a kernel module");
}
