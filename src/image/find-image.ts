import type { ImageInfo } from "./image-info.ts";
import { listImages } from "./list-images.ts";

/**
 * The newest built image called `name` in `imagesDir`, or undefined when there is none.
 *
 * @example
 * const image = await findImage(imagesDir, "default");
 * if (image) boot(image.rootfsImage);
 */
export async function findImage(imagesDir: string, name: string): Promise<ImageInfo | undefined> {
  return (await listImages(imagesDir)).find((i) => i.name === name);
}
