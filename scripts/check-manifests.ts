/**
 * Honest manifests: every workspace declares what its code imports, and imports what it
 * declares; dependencies point one way (apps → `protocol/`, never app → app, never the
 * reverse). Run by `npm test`; exits 1 with one line per finding.
 *
 * - Imports are read with TypeScript's own pre-processor (static, dynamic, `export … from`,
 *   type-only), so a string that merely looks like an import is not counted.
 * - A relative import that lands in another workspace counts as importing that workspace.
 * - Test code (a `test/` folder, or the `tests` workspace) may use the root's dev tools
 *   (vitest, fast-check, playwright-core…): those are declared once, at the root.
 * - A `dependencies` entry that nothing in the workspace imports is reported (`@types/*` aside).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  workspaces?: string[];
}

/** Workspaces that are applications: they may import `protocol/` and nothing of each other. */
const APPS = new Set(['device-sim', 'gateway', 'control-center']);
/** The library every app builds on; it imports no workspace. */
const LIBRARY = 'protocol';
/** Cross-part tests: may import every workspace, as long as they declare it. */
const TESTS = 'tests';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUILTINS = new Set(builtinModules);

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts|cts|mjs)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** `@scope/name/deep/path` → `@scope/name`; `name/deep` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

export interface Finding {
  workspace: string;
  file?: string;
  message: string;
}

export function checkManifests(root = ROOT): Finding[] {
  const rootManifest = readManifest(root);
  const workspaces = rootManifest.workspaces ?? [];
  const rootTools = new Set(Object.keys(rootManifest.devDependencies ?? {}));
  const byName = new Map<string, string>();
  const manifests = new Map<string, Manifest>();
  for (const ws of workspaces) {
    const m = readManifest(join(root, ws));
    manifests.set(ws, m);
    byName.set(m.name, ws);
  }
  const workspaceOfPath = (abs: string): string | undefined => {
    const rel = relative(root, abs);
    const first = rel.split(sep)[0];
    return first && workspaces.includes(first) ? first : undefined;
  };

  const findings: Finding[] = [];
  for (const ws of workspaces) {
    const manifest = manifests.get(ws)!;
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.devDependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const used = new Set<string>();
    for (const file of sourceFiles(join(root, ws))) {
      const relFile = relative(root, file);
      const isTest = ws === TESTS || relFile.split(sep).includes('test');
      const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      for (const { fileName: spec } of info.importedFiles) {
        let pkg: string;
        if (spec.startsWith('.')) {
          const target = workspaceOfPath(resolve(dirname(file), spec));
          if (target === undefined) {
            findings.push({ workspace: ws, file: relFile, message: `imports ${spec}, outside every workspace` });
            continue;
          }
          if (target === ws) continue;
          pkg = manifests.get(target)!.name;
        } else if (spec.startsWith('node:') || BUILTINS.has(spec) || BUILTINS.has(packageOf(spec))) {
          continue;
        } else {
          pkg = packageOf(spec);
        }
        used.add(pkg);
        const targetWs = byName.get(pkg);
        if (targetWs !== undefined && targetWs !== ws) {
          if (ws === LIBRARY) findings.push({ workspace: ws, file: relFile, message: `the protocol library imports the ${targetWs} workspace (${spec})` });
          else if (APPS.has(ws) && APPS.has(targetWs)) findings.push({ workspace: ws, file: relFile, message: `app ${ws} imports app ${targetWs} (${spec})` });
        }
        if (!declared.has(pkg) && !(isTest && rootTools.has(pkg))) {
          findings.push({ workspace: ws, file: relFile, message: `imports ${pkg} (${spec}), which ${ws}/package.json does not declare` });
        }
      }
    }
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      if (!dep.startsWith('@types/') && !used.has(dep)) findings.push({ workspace: ws, message: `declares ${dep}, which nothing in ${ws}/ imports` });
    }
  }
  return findings;
}

/** `tsx scripts/check-manifests.ts [root]`: the repository by default, or another tree (the tests' fixtures). */
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? ROOT);
  const findings = checkManifests(root);
  for (const f of findings) console.error(`ERR: ${f.workspace}${f.file ? ` ${f.file}` : ''}: ${f.message}`);
  if (findings.length > 0) process.exit(1);
  console.log(`manifests ok: ${readManifest(root).workspaces?.length ?? 0} workspaces`);
}
