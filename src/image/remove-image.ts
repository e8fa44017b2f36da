import { randomBytes } from "node:crypto";
import { rename } from "node:fs/promises";
import path from "node:path";
import { ActvmError } from "../shared/errors.ts";
import { removeBuildDir } from "./build-dir.ts";
import type { ImageInfo } from "./image-info.ts";
import { listImages } from "./list-images.ts";

/** Options of {@link removeImage}. */
export interface RemoveImageOptions {
  /** With a name: remove the newest image of that name too. */
  all?: boolean;
}

/** What {@link removeImage} did. */
export interface RemoveImageResult {
  removed: ImageInfo[];
  /** The newest image of a name that was kept (removal by name without `all`). */
  kept: ImageInfo[];
}

/**
 * Removes images. An id removes exactly that image. A name removes that name's older images and
 * keeps the newest one, which sandboxes use, unless `all` is set. Each image directory is first
 * renamed aside, so it disappears at once and a crash mid-way leaves only a `.rm-*` directory
 * that {@link sweepImageTemp} finishes. Throws `NOT_FOUND` when nothing matches.
 *
 * @example
 * await removeImage(imagesDir, "default");             // prune old versions of "default"
 * await removeImage(imagesDir, "default-3f2a9c1b04de"); // remove one version
 */
export async function removeImage(
  imagesDir: string,
  idOrName: string,
  options: RemoveImageOptions = {},
): Promise<RemoveImageResult> {
  const images = await listImages(imagesDir);
  const byId = images.find((i) => i.id === idOrName);
  let targets: ImageInfo[];
  const kept: ImageInfo[] = [];
  if (byId) targets = [byId];
  else {
    const named = images.filter((i) => i.name === idOrName);
    if (named.length === 0)
      throw new ActvmError("NOT_FOUND", `no image with id or name '${idOrName}'`, {
        subsystem: "image",
        hint: "see `actvm image list`",
      });
    // listImages sorts newest first.
    if (options.all) targets = named;
    else {
      kept.push(named[0] as ImageInfo);
      targets = named.slice(1);
    }
  }
  const removed: ImageInfo[] = [];
  for (const image of targets) {
    const aside = path.join(
      path.dirname(image.dir),
      `.rm-${image.id}-${randomBytes(4).toString("hex")}`,
    );
    try {
      await rename(image.dir, aside);
    } catch (err) {
      // Someone else removed it meanwhile: the outcome is the same.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    await removeBuildDir(aside);
    removed.push(image);
  }
  return { removed, kept };
}
