import type { Migration, MigrationProvider } from "kysely";
import { initialMigration } from "./migrations/001-initial.ts";

/**
 * The store's migrations, in code so a bundled build carries them. Names sort in the order
 * they must run; never rename or edit one that has shipped, add a new one.
 */
export const migrationProvider: MigrationProvider = {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve({ "001-initial": initialMigration });
  },
};
