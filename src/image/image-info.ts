/**
 * A built guest image: an unpacked Debian root tree for sandboxes that bind it (bwrap, gVisor)
 * and the same tree as a raw ext4 file for VMs, which boot it behind a copy-on-write overlay.
 */
export interface ImageInfo {
  /** The image's name, e.g. "default". */
  name: string;
  /** `<name>-<first 12 hex of hash>`; also its directory's name. */
  id: string;
  /** sha256 of the definition, the agent bundle and the init script. */
  hash: string;
  /** `<imagesDir>/<id>`. */
  dir: string;
  /** `<dir>/rootfs`: the unpacked tree, to be used read-only. */
  rootfsDir: string;
  /** `<dir>/rootfs.ext4`: the raw ext4 image. */
  rootfsImage: string;
  /** Every package asked for (base list, `--include` and the image file), sorted. */
  packages: string[];
  /** Size of rootfs.ext4 in bytes. */
  sizeBytes: number;
  /** ISO time the build finished. */
  builtAt: string;
  /** How long the build took. */
  buildMs: number;
}
