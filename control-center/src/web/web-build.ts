import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/** One built file of the dashboard: its content-hashed name and its bytes. */
export interface WebAsset {
  name: string;
  contents: Uint8Array;
}

/** The dashboard as built: the page (naming its hashed script and stylesheet) and the files it loads. */
export interface WebBuild {
  html: string;
  assets: WebAsset[];
}

/** Where hashed assets are served; the page names them under this prefix. */
export const ASSET_PREFIX = '/assets/';

/** Browsers the dashboard supports: current Chromium, Firefox ESR and Safari (WebRTC, MSE, requestVideoFrameCallback). */
const TARGETS = ['chrome110', 'firefox115', 'safari16'];

/**
 * Bundles the dashboard (Preact TSX, its CSS) with esbuild into content-hashed files and
 * writes their names into the page. Nothing is fetched from outside: the page loads only
 * what this returns, so it works on a closed network. Used at install time (`npm run
 * build:web` writes the result to disk) and, for development only, in memory at start.
 */
export async function buildDashboard(opts: { minify?: boolean } = {}): Promise<WebBuild> {
  const result = await build({
    entryPoints: { app: here('./app/main.tsx') },
    bundle: true,
    write: false,
    outdir: '/assets',
    format: 'esm',
    target: TARGETS,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: opts.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const assets = result.outputFiles.map((f) => ({ name: basename(f.path), contents: f.contents }));
  const js = assets.find((a) => a.name.endsWith('.js'));
  const css = assets.find((a) => a.name.endsWith('.css'));
  if (!js || !css) throw new Error(`the dashboard build produced ${assets.map((a) => a.name).join(', ')}: expected a script and a stylesheet`);
  const template = await readFile(here('./app/index.html'), 'utf8');
  const html = template.replace('{{script}}', `${ASSET_PREFIX}${js.name}`).replace('{{stylesheet}}', `${ASSET_PREFIX}${css.name}`);
  return { html, assets };
}
