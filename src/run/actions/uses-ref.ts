/** A parsed `uses:` value of a step. */
export type UsesRef =
  | {
      kind: "local";
      /** The `uses:` text as written. */
      raw: string;
      /** Normalised repository-relative path without `./` (`.` for the root). */
      path: string;
    }
  | {
      kind: "remote";
      raw: string;
      owner: string;
      repo: string;
      /** Sub-directory of the action inside the repository, if any. */
      path: string | undefined;
      /** Tag, branch or commit sha after `@`. */
      ref: string;
    }
  | {
      kind: "docker";
      raw: string;
      /** The image after `docker://`. */
      image: string;
    };
