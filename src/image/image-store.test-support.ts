import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { IMAGE_RECORD_FILE, type ImageRecord } from "./image-record.ts";

/**
 * Writes a finished-looking image directory (record and empty files) for list/remove tests;
 * `hashOrDigit` is a full sha256 or one hex digit to repeat.
 */
export function fakeImage(
  imagesDir: string,
  name: string,
  hashOrDigit: string,
  builtAt: string,
): string {
  const hash = hashOrDigit.length === 1 ? hashOrDigit.repeat(64) : hashOrDigit;
  const id = `${name}-${hash.slice(0, 12)}`;
  const dir = path.join(imagesDir, id);
  mkdirSync(path.join(dir, "rootfs", "etc"), { recursive: true });
  writeFileSync(path.join(dir, "rootfs.ext4"), "");
  const record: ImageRecord = {
    version: 1,
    name,
    id,
    hash,
    packages: ["bash"],
    sizeBytes: 1024,
    builtAt,
    buildMs: 1000,
    suite: "bookworm",
    arch: "amd64",
    mirror: "file:///srv/debian",
  };
  writeFileSync(path.join(dir, IMAGE_RECORD_FILE), JSON.stringify(record));
  return id;
}
