import type { Command } from "commander";
import {
  IMAGE_NAME,
  PACKAGE_NAME,
  buildImage,
  listImages,
  loadImageFile,
  removeImage,
  type ImageInfo,
} from "../../image/index.ts";
import type { Diagnostic } from "../../shared/diagnostic.ts";
import { actvmPaths } from "../../shared/paths.ts";
import { checkDiagnostics, collect, configFrom, UsageError, type CliIo } from "../cli-io.ts";
import { formatMs } from "../terminal-reporter.ts";

interface BuildFlags {
  name?: string;
  include: string[];
  file?: string;
}

function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  return `${Math.round(bytes / 1024 ** 2)} MiB`;
}

function printTable(io: CliIo, rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  for (const row of rows)
    io.stdout.write(
      row
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join("  ")
        .trimEnd() + "\n",
    );
}

function describe(image: ImageInfo): string {
  return `${image.id} (${formatSize(image.sizeBytes)}, built ${image.builtAt.replace("T", " ").slice(0, 19)})`;
}

/**
 * `actvm image build|list|rm`: builds the Debian guest image sandboxes boot or bind, lists the
 * images kept in `$ACTVM_HOME/cache/images` and removes old ones.
 */
export function registerImageCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  const image = program
    .command("image")
    .description("build, list and remove guest images (Debian 12 root file systems)");

  image
    .command("build")
    .description("build a guest image (needs root); an unchanged definition is a cache hit")
    .option("--name <name>", "image name (default: the image file's name, else 'default')")
    .option(
      "--include <pkgs>",
      "extra Debian packages, comma-separated (repeatable)",
      collect,
      [] as string[],
    )
    .option("--file <path>", "image file (YAML or JSON) with `name` and `include`")
    .action(async (flags: BuildFlags) => {
      const config = configFrom(io);
      const diagnostics: Diagnostic[] = [];
      const include = flags.include
        .flatMap((v) => v.split(","))
        .map((v) => v.trim())
        .filter((v) => v !== "");
      for (const pkg of include)
        if (!PACKAGE_NAME.test(pkg))
          diagnostics.push({
            severity: "error",
            field: "--include",
            message: `'${pkg}' is not a Debian package name`,
            hint: "lower-case letters, digits, '+', '-' and '.', e.g. --include ripgrep,shellcheck",
          });
      if (flags.name !== undefined && !IMAGE_NAME.test(flags.name))
        diagnostics.push({
          severity: "error",
          field: "--name",
          message: `'${flags.name}' is not a valid image name`,
          hint: "use 1-40 lower-case letters, digits, '-' or '_', e.g. --name ci",
        });
      if (flags.file !== undefined) {
        const parsed = await loadImageFile(flags.file);
        diagnostics.push(...parsed.diagnostics);
      }
      checkDiagnostics(io, diagnostics);
      const abort = new AbortController();
      const onSignal = (): void => {
        io.stderr.write("\nactvm: cancelling the image build and removing what it made\n");
        abort.abort(new Error("cancelled by the user"));
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      try {
        const result = await buildImage({
          imagesDir: actvmPaths(config.home).images,
          include,
          ...(flags.name !== undefined ? { name: flags.name } : {}),
          ...(flags.file !== undefined ? { imageFile: flags.file } : {}),
          onProgress: (line) => io.stderr.write(`  ${line}\n`),
          signal: abort.signal,
        });
        const img = result.image;
        io.stdout.write(
          result.cached
            ? `${img.id}: up to date (built ${img.builtAt.replace("T", " ").slice(0, 19)})\n`
            : `${img.id}: built in ${formatMs(img.buildMs)}, ${formatSize(img.sizeBytes)}\n`,
        );
        io.stdout.write(`  rootfs: ${img.rootfsDir}\n  ext4:   ${img.rootfsImage}\n`);
        setExit(0);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });

  image
    .command("list")
    .description("list built images, newest first")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      const config = configFrom(io);
      const images = await listImages(actvmPaths(config.home).images);
      if (flags.json) {
        io.stdout.write(JSON.stringify(images, null, 2) + "\n");
        return setExit(0);
      }
      if (images.length === 0) {
        io.stdout.write("no images yet; build one with: actvm image build\n");
        return setExit(0);
      }
      const newest = new Set<string>();
      const rows = [["ID", "NAME", "SIZE", "BUILT", "BUILD TIME", "PACKAGES"]];
      for (const i of images) {
        const current = !newest.has(i.name);
        newest.add(i.name);
        rows.push([
          current ? `${i.id} *` : i.id,
          i.name,
          formatSize(i.sizeBytes),
          i.builtAt.replace("T", " ").slice(0, 19),
          formatMs(i.buildMs),
          String(i.packages.length),
        ]);
      }
      printTable(io, rows);
      io.stdout.write("\n* the newest image of its name, the one sandboxes use\n");
      setExit(0);
    });

  image
    .command("rm")
    .description(
      "remove an image by ID, or the older images of a NAME (--all: every image of the name)",
    )
    .argument("<id-or-name>", "an image id (name-hash) or an image name")
    .option("--all", "with a name: remove the newest image of that name too")
    .action(async (idOrName: string, flags: { all?: boolean }) => {
      if (idOrName.trim() === "")
        throw new UsageError([
          { severity: "error", field: "ID|NAME", message: "give an image id or name" },
        ]);
      const config = configFrom(io);
      const result = await removeImage(actvmPaths(config.home).images, idOrName, {
        all: Boolean(flags.all),
      });
      for (const r of result.removed) io.stdout.write(`removed ${describe(r)}\n`);
      for (const k of result.kept)
        io.stderr.write(
          `kept ${describe(k)}: the newest '${k.name}' image (remove it with --all or by its id)\n`,
        );
      setExit(result.removed.length > 0 ? 0 : 1);
    });
}
