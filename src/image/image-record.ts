import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { ImageInfo } from "./image-info.ts";

/** Name of the file that marks a finished image directory and describes it. */
export const IMAGE_RECORD_FILE = "image.json";

/** The contents of `image.json`; paths are not stored, so an images directory can be moved. */
export const imageRecordSchema = z.object({
  version: z.literal(1),
  name: z.string().min(1),
  id: z.string().min(1),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  packages: z.array(z.string()),
  sizeBytes: z.number().int().nonnegative(),
  builtAt: z.string(),
  buildMs: z.number().nonnegative(),
  suite: z.string(),
  arch: z.string(),
  /** The mirror it was built from, as the host's apt configuration named it then. */
  mirror: z.string(),
});

/** What `image.json` holds. */
export type ImageRecord = z.infer<typeof imageRecordSchema>;

/** The {@link ImageInfo} of an image directory whose record was read. */
export function toImageInfo(dir: string, record: ImageRecord): ImageInfo {
  return {
    name: record.name,
    id: record.id,
    hash: record.hash,
    dir,
    rootfsDir: path.join(dir, "rootfs"),
    rootfsImage: path.join(dir, "rootfs.ext4"),
    packages: record.packages,
    sizeBytes: record.sizeBytes,
    builtAt: record.builtAt,
    buildMs: record.buildMs,
  };
}

/**
 * Reads `<dir>/image.json`; undefined when the directory is not a finished image (no record,
 * or one that does not parse, or whose id does not match the directory's name).
 */
export async function readImageRecord(dir: string): Promise<ImageRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, IMAGE_RECORD_FILE), "utf8");
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = imageRecordSchema.safeParse(json);
  if (!parsed.success || parsed.data.id !== path.basename(dir)) return undefined;
  return parsed.data;
}
