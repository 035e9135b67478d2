import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlCenter } from '../../src/server';
import { DashboardNotBuiltError } from '../../src/web/web-assets';
import type { CentreClient } from '../support/api-client';
import { ACCOUNTS, CentreFixture } from '../support/centre-fixture';

let fx: CentreFixture;
let operator: CentreClient;
let auditor: CentreClient;

beforeAll(async () => {
  fx = await CentreFixture.start();
  operator = await fx.signIn(ACCOUNTS.operator);
  auditor = await fx.signIn(ACCOUNTS.auditor);
}, 60_000);

afterAll(async () => {
  await fx?.close();
});

describe('the dashboard as served', () => {
  it('serves the page uncached, naming content-hashed files that are cached as immutable, under a CSP without inline script', async () => {
    const page = await fetch(`${fx.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/https?:\/\//); // nothing from another host
    const files = [...html.matchAll(/"\/assets\/([^"]+)"/g)].map((m) => m[1]);
    expect(files.some((f) => /^app-[A-Z0-9]{8}\.js$/.test(f))).toBe(true);
    expect(files.some((f) => /^app-[A-Z0-9]{8}\.css$/.test(f))).toBe(true);
    for (const f of files) {
      const res = await fetch(`${fx.url}/assets/${f}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toMatch(/max-age=31536000.*immutable/);
      expect(res.headers.get('content-type')).toMatch(f.endsWith('.js') ? /javascript/ : /text\/css/);
      const body = await res.text();
      expect(body).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z]/i); // no CDN, no external font
    }
    expect((await fetch(`${fx.url}/assets/app-NOTTHERE.js`)).status).toBe(404);
    expect((await fetch(`${fx.url}/assets/..%2fpackage.json`)).status).toBe(400);
  });

  it('refuses to start without the install-time build, saying how to make it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'centre-nobuild-'));
    try {
      await expect(ControlCenter.create({ dataDir: dir, port: 0, web: { dir: join(dir, 'no-web') } }, { logger: pino({ level: 'silent' }) })).rejects.toThrow(DashboardNotBuiltError);
      await expect(ControlCenter.create({ dataDir: dir, port: 0, web: { dir: join(dir, 'no-web') } }, { logger: pino({ level: 'silent' }) })).rejects.toThrow(/npm run build:web/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('each account\'s own dashboard settings', () => {
  it('remembers the language per account', async () => {
    expect((await operator.get('/api/me/prefs')).body).toEqual({ lang: null });
    expect((await operator.call('PUT', '/api/me/prefs', { lang: 'en' })).status).toBe(200);
    expect((await operator.get('/api/me/prefs')).body).toEqual({ lang: 'en' });
    expect((await auditor.get('/api/me/prefs')).body).toEqual({ lang: null });
    expect((await operator.call('PUT', '/api/me/prefs', { lang: 'de' })).status).toBe(400);
  });

  it('keeps saved views per account: another account neither lists nor deletes them', async () => {
    const saved = await operator.post<{ id: string; name: string; layout: string; cameras: (string | null)[] }>('/api/me/views', {
      name: 'Ranní obchůzka',
      layout: '1+5',
      cameras: ['gw-a:cam1', null, 'gw-b:cam2'],
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ name: 'Ranní obchůzka', layout: '1+5', cameras: ['gw-a:cam1', null, 'gw-b:cam2'] });
    // Saving under the same name replaces the view.
    const again = await operator.post<{ id: string }>('/api/me/views', { name: 'Ranní obchůzka', layout: '4', cameras: [] });
    expect(again.body.id).toBe(saved.body.id);
    const mine = (await operator.get<{ views: { id: string; layout: string }[] }>('/api/me/views')).body.views;
    expect(mine.filter((v) => v.id === saved.body.id)).toEqual([expect.objectContaining({ layout: '4' })]);
    expect((await auditor.get<{ views: unknown[] }>('/api/me/views')).body.views).toEqual([]);
    expect((await auditor.call('DELETE', `/api/me/views/${saved.body.id}`)).status).toBe(404);
    expect((await operator.call('DELETE', `/api/me/views/${saved.body.id}`)).status).toBe(204);
    expect((await operator.get<{ views: { id: string }[] }>('/api/me/views')).body.views.map((v) => v.id)).not.toContain(saved.body.id);
    expect((await operator.post('/api/me/views', { name: 'Špatně', layout: '5', cameras: [] })).status).toBe(400);
  });
});
