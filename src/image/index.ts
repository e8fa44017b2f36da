// The root filesystem image (buildImage & co.); kernel and initramfs exports follow it.
export type { ImageInfo } from "./image-info.ts";
export { findImage } from "./find-image.ts";
export { listImages } from "./list-images.ts";
export { removeImage, type RemoveImageOptions, type RemoveImageResult } from "./remove-image.ts";
export {
  buildImage,
  planImage,
  type BuildImageOptions,
  type BuildImageResult,
  type ImagePlan,
} from "./build-image.ts";
export { sweepImageTemp } from "./sweep-image-temp.ts";
export { loadImageFile, parseImageFile, type ImageFileSpec } from "./image-file.ts";
export {
  BASE_PACKAGES,
  IMAGE_NAME,
  IMAGE_SUITE,
  PACKAGE_NAME,
  createImageDefinition,
  hashImageDefinition,
  imageId,
  type ImageDefinition,
} from "./image-definition.ts";
export { AGENT_PATH, AGENT_PORT_NAME, ACTVM_INIT_SCRIPT, INIT_PATH } from "./init-script.ts";
export { RUNNER_USER, RUNNER_WORK_DIRS } from "./configure-rootfs.ts";
export { findAptMirror, pickAptMirror, readAptSources, type AptMirror } from "./find-apt-mirror.ts";
export { parseDeb822Sources, parseOneLineSources, type AptSource } from "./apt-sources.ts";
export { fetchKernel, GUEST_KERNEL_MODULES } from "./kernel-fetch.ts";
export type { GuestKernel, FetchKernelOptions } from "./kernel-fetch.ts";
export { buildInitramfs } from "./initramfs-build.ts";
export type { BuildInitramfsOptions } from "./initramfs-build.ts";
export { runTool } from "./kernel-run-tool.ts";
