import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboard, type WebAsset } from './web-build';

/** Where `npm run build:web` writes the dashboard: `control-center/dist/web`. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../dist/web', import.meta.url));

/** The dashboard the centre serves: built files on disk (production), or a build held in memory (development only). */
export type WebAssets =
  | { kind: 'dir'; html: string; dir: string }
  | { kind: 'memory'; html: string; assets: ReadonlyMap<string, WebAsset> };

export class DashboardNotBuiltError extends Error {
  readonly code = 'DASHBOARD_NOT_BUILT';
}

/**
 * The dashboard's files. By default the install-time build in `dir`; a centre whose build is
 * missing refuses to start (run `npm run build:web`). `dev` builds in memory instead, for
 * working on the page: never for production, where files must be hashed, cached and stable.
 */
export async function loadWebAssets(opts: { dev: boolean; dir?: string }): Promise<WebAssets> {
  if (opts.dev) {
    const built = await buildDashboard({ minify: false });
    return { kind: 'memory', html: built.html, assets: new Map(built.assets.map((a) => [a.name, a])) };
  }
  const dir = opts.dir ?? DEFAULT_WEB_DIR;
  const index = join(dir, 'index.html');
  if (!existsSync(index)) throw new DashboardNotBuiltError(`the dashboard is not built (${index} is missing): run \`npm run build:web\``);
  return { kind: 'dir', html: readFileSync(index, 'utf8'), dir };
}
