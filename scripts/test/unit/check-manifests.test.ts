import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkManifests } from '../../check-manifests';

/** A workspace tree under `fixtures/manifests/`: a root package.json listing workspaces, and their code. */
const fixture = (name: string): string => fileURLToPath(new URL(`fixtures/manifests/${name}`, import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../check-manifests.ts', import.meta.url));

describe('checkManifests', () => {
  it('passes a clean tree: declared packages, deep and type-only imports, a dynamic import, builtins, a relative import into a declared workspace, root test tools in test code', () => {
    expect(checkManifests(fixture('clean'))).toEqual([]);
  });

  it('reports an import the workspace does not declare, and a root test tool imported outside test code', () => {
    expect(checkManifests(fixture('undeclared-import'))).toEqual([
      { workspace: 'gateway', file: 'gateway/src/health.ts', message: 'imports vitest (vitest), which gateway/package.json does not declare' },
      { workspace: 'gateway', file: 'gateway/src/link.ts', message: 'imports ws (ws), which gateway/package.json does not declare' },
    ]);
  });

  it('reports a dependency that nothing in the workspace imports, type packages aside', () => {
    expect(checkManifests(fixture('unused-dependency'))).toEqual([{ workspace: 'gateway', message: 'declares yaml, which nothing in gateway/ imports' }]);
  });

  it('reports an app importing another app, by package name and by relative path, even when declared', () => {
    expect(checkManifests(fixture('app-imports-app'))).toEqual([
      { workspace: 'gateway', file: 'gateway/src/by-name.ts', message: 'app gateway imports app control-center (@fixture/control-center/server)' },
      { workspace: 'gateway', file: 'gateway/src/by-path.ts', message: 'app gateway imports app control-center (../../control-center/src/server)' },
    ]);
  });

  it('reports the protocol library importing an app', () => {
    expect(checkManifests(fixture('protocol-imports-app'))).toEqual([
      { workspace: 'protocol', file: 'protocol/src/sdp.ts', message: 'the protocol library imports the gateway workspace (../../gateway/src/camera)' },
    ]);
  });
});

describe('npm run check:manifests', () => {
  const run = (root: string): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, root], { encoding: 'utf8' });

  it('exits 1 with one ERR line per finding', () => {
    const r = run(fixture('app-imports-app'));
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'ERR: gateway gateway/src/by-name.ts: app gateway imports app control-center (@fixture/control-center/server)',
      'ERR: gateway gateway/src/by-path.ts: app gateway imports app control-center (../../control-center/src/server)',
    ]);
  });

  it('exits 0 and says so on a clean tree', () => {
    const r = run(fixture('clean'));
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('manifests ok: 3 workspaces');
    expect(r.status).toBe(0);
  });
});
