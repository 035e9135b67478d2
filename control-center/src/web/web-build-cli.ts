import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_WEB_DIR } from './web-assets';
import { buildDashboard } from './web-build';

/**
 * `npm run build:web` (run by `npm ci`, `npm start` and `npm test`): writes the dashboard's
 * content-hashed files to `control-center/dist/web/`, which the centre serves. The new
 * build is written beside the old one and swapped in with one rename, so a running centre
 * never sees half a build; the previous build's files are kept, so a centre still serving the
 * previous page (it reads the page at start) keeps working until it restarts.
 */
async function main(): Promise<void> {
  const out = process.argv[2] ?? DEFAULT_WEB_DIR;
  const started = Date.now();
  const built = await buildDashboard();
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'assets'), { recursive: true });
  for (const a of built.assets) writeFileSync(join(tmp, 'assets', a.name), a.contents);
  writeFileSync(join(tmp, 'index.html'), built.html);
  const previous = join(out, 'index.html');
  if (existsSync(previous)) {
    for (const [, name] of readFileSync(previous, 'utf8').matchAll(/"\/assets\/([^"/]+)"/g)) {
      const from = join(out, 'assets', name);
      if (existsSync(from) && !existsSync(join(tmp, 'assets', name))) copyFileSync(from, join(tmp, 'assets', name));
    }
  }
  mkdirSync(dirname(out), { recursive: true });
  const old = `${out}.old-${process.pid}`;
  try {
    renameSync(out, old);
  } catch {
    // no previous build
  }
  renameSync(tmp, out);
  rmSync(old, { recursive: true, force: true });
  const size = built.assets.reduce((n, a) => n + a.contents.length, 0);
  console.log(`dashboard built in ${Date.now() - started} ms: ${built.assets.map((a) => a.name).join(', ')} (${Math.round(size / 1024)} KiB) → ${out}`);
}

main().catch((err: Error) => {
  console.error(`ERR: building the dashboard failed: ${err.message}`);
  process.exit(1);
});
