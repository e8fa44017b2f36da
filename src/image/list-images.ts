import { readdir } from "node:fs/promises";
import path from "node:path";
import type { ImageInfo } from "./image-info.ts";
import { readImageRecord, toImageInfo } from "./image-record.ts";

/**
 * Every finished image in `imagesDir`, newest first; directories being built or removed and
 * anything without a valid `image.json` are left out.
 *
 * @example
 * for (const image of await listImages(imagesDir)) console.log(image.id, image.sizeBytes);
 */
export async function listImages(imagesDir: string): Promise<ImageInfo[]> {
  let names: string[];
  try {
    names = await readdir(imagesDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: ImageInfo[] = [];
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const dir = path.join(path.resolve(imagesDir), name);
    const record = await readImageRecord(dir);
    if (record) out.push(toImageInfo(dir, record));
  }
  return out.sort((a, b) => b.builtAt.localeCompare(a.builtAt) || a.id.localeCompare(b.id));
}
