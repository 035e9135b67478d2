import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export interface WebAssets {
  html: string;
  js: string;
  css: string;
}

/**
 * Builds the dashboard in memory at start-up (esbuild, ~50 ms): the page is served by
 * the centre itself and loads nothing from the internet, so it works on a closed network.
 */
export async function buildWebAssets(): Promise<WebAssets> {
  const result = await build({
    entryPoints: [here('./app/main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    sourcemap: false,
    logLevel: 'silent',
  });
  const js = result.outputFiles[0].text;
  const [html, css] = await Promise.all([readFile(here('./app/index.html'), 'utf8'), readFile(here('./app/style.css'), 'utf8')]);
  return { html, js, css };
}
