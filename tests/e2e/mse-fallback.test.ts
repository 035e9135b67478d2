import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchChromium } from '../support/chromium';
import { screenshot } from '../support/dashboard-page';
import { type InProcessStack, startInProcessStack } from '../support/in-process-stack';
import { median, signInPage, tileStats, waitForTiles } from '../support/page-stats';
import { type UdpBlockedNetns, createUdpBlockedNetns, tcpRelay } from '../support/udp-blocked-netns';

const run = promisify(execFile);

/**
 * A browser on a network where only TCP reaches the centre (a namespace this test creates, UDP
 * dropped both ways): WebRTC cannot connect, the page falls back on its own to fMP4 over its
 * WebSocket (MSE) and plays — frames decoded, the capture-time barcode read from their pixels.
 */
describe('MSE fallback where UDP is blocked', () => {
  let lan: UdpBlockedNetns;
  let stack: InProcessStack;
  let relay: { url: string; close(): Promise<void> };
  let browser: Browser;

  beforeAll(async () => {
    lan = await createUdpBlockedNetns();
    stack = await startInProcessStack({ cameras: 1, lingerMs: 200 });
    // The centre is on loopback (its gateway too); the namespace reaches it over TCP through a relay
    // on the host's end of the link, as browsers reach a centre through a reverse proxy.
    relay = await tcpRelay(lan.hostAddress, new URL(stack.centre.url));
    browser = await launchChromium({ netns: lan.ns });
  });

  afterAll(async () => {
    await browser?.close();
    await relay?.close();
    await stack?.close();
    await lan?.close();
  });

  it('the namespace lets TCP reach the centre and drops UDP', async () => {
    const port = Number(new URL(relay.url).port);
    const tcp = await run('ip', ['netns', 'exec', lan.ns, 'bash', '-c', `exec 3<>/dev/tcp/${lan.hostAddress}/${port} && echo open`]);
    expect(tcp.stdout.trim()).toBe('open');
    const sock = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    sock.on('message', (m) => got.push(m));
    await new Promise<void>((r) => sock.bind(0, lan.hostAddress, r));
    const udpPort = sock.address().port;
    // The same datagram from the host's own address arrives: the listener works.
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.send('from-host', udpPort, lan.hostAddress, () => r()));
    const sent = await run('ip', ['netns', 'exec', lan.ns, 'bash', '-c', `for i in 1 2 3; do echo from-ns > /dev/udp/${lan.hostAddress}/${udpPort} || echo refused; done`]);
    expect(sent.stdout.trim().split('\n')).toEqual(['refused', 'refused', 'refused']);
    await new Promise((r) => setTimeout(r, 300));
    probe.close();
    sock.close();
    expect(got.map((b) => b.toString().trim())).toEqual(['from-host']);
    expect(net.isIP(lan.nsAddress)).toBe(4);
  });

  it('falls back from WebRTC to MSE on its own and plays the camera, frames decoded, at a measured glass-to-glass latency; tiles opened later start on MSE; a cut ends it and the page says why', async () => {
    const page = await browser.context.newPage();
    // The live wall, reading the capture-time barcode (`diag=1`), as an operator opens it.
    await signInPage(page, `${relay.url}/?diag=1#/live`, stack.accounts.operator);
    const cameraId = stack.centreId(stack.fleet.info().cameras[0].id);
    const [tile] = await waitForTiles(page, (ts) => ts.length === 1 && ts[0].transport === 'mse' && ts[0].barcodes >= 30, 60_000, 'the tile to fall back to MSE and play');
    expect(tile.fallback).toMatch(/^webrtc_(timeout|failed)$/);
    // The fallback carries the camera's main stream, even in a grid tile.
    expect([tile.profile, tile.width, tile.height]).toEqual(['main', 640, 360]);
    // The operator sees that this tile runs on the fallback (Czech by default).
    const badge = '.tile-body .badge.player';
    expect(await page.textContent(badge)).toBe('živě · záložní přenos');
    expect(await page.getAttribute(badge, 'title')).toBe('WebRTC se nepodařilo spojit (síť blokuje UDP?); video jde přes záložní přenos (fMP4 přes WebSocket).');
    expect(await page.textContent('.tile-body .stream-kind')).toBe('hlavní proud');
    await screenshot(page, 'mse-fallback');
    expect(stack.centre.liveViews.list().map((v) => v.transport)).toEqual(['mse']);
    const g2g = median(tile.latencies.slice(-30));
    console.log(`MSE fallback glass-to-glass, median of the last 30 frames: ${Math.round(g2g)} ms`);
    expect(g2g).toBeGreaterThan(0);

    // WebRTC does not work from here: a tile opened next (the camera large) starts on MSE directly,
    // without waiting for WebRTC to fail again (it never fell back itself).
    await page.dblclick('.tile[data-slot="0"]');
    await page.waitForSelector('.wall.single');
    const [big] = await waitForTiles(page, (ts) => ts.length === 1 && ts[0].fallback === null && ts[0].frames >= 5, 30_000, 'the single view playing');
    expect([big.transport, big.profile, big.retries, `${big.width}x${big.height}`]).toEqual(['mse', 'main', 0, '640x360']);
    expect(await page.textContent(badge)).toBe('živě · záložní přenos');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.wall:not(.single)');
    await waitForTiles(page, (ts) => ts.length === 1 && ts[0].transport === 'mse' && ts[0].fallback === null && ts[0].frames >= 5, 30_000, 'the wall playing again');
    const deadline = Date.now() + 5000;
    while (stack.centre.liveViews.list().length !== 1 && Date.now() < deadline) await page.waitForTimeout(100);
    expect(stack.centre.liveViews.list().map((v) => v.transport)).toEqual(['mse']);

    // Cut from outside (as a revoked grant's views are): the video stops within 1 s and the tile says why.
    const before = (await tileStats(page))[0].frames;
    stack.centre.revocations.revoke({ camera: cameraId }, { kind: 'access_revoked' });
    await page.waitForFunction(() => document.querySelector('.tile-body')?.getAttribute('data-state') === 'ended', undefined, { timeout: 1000 });
    expect(await page.textContent(badge)).toBe('ukončeno');
    expect(await page.getAttribute(badge, 'title')).toBe('access revoked');
    expect(await page.textContent('.tile-body .tile-detail')).toBe('access revoked');
    const after = (await tileStats(page))[0];
    await page.waitForTimeout(1000);
    expect((await tileStats(page))[0].frames).toBe(after.frames);
    expect(after.frames).toBeGreaterThanOrEqual(before);
    expect(stack.centre.liveViews.list()).toHaveLength(0);
    await page.close();
  });
});
