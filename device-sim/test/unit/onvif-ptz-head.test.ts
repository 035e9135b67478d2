import { describe, expect, it } from 'vitest';
import { PtzHead } from '../../src/onvif/ptz-head';

function head(): { head: PtzHead; advance: (ms: number) => void } {
  let now = 0;
  return { head: new PtzHead({ now: () => now, unitsPerSecond: 0.5 }), advance: (ms) => { now += ms; } };
}

describe('PtzHead', () => {
  it('moves while a continuous move lasts, then stops at the timeout', () => {
    const { head: h, advance } = head();
    h.continuousMove({ pan: 1, tilt: -0.5, zoom: 0.2 }, 1000);
    advance(500);
    expect(h.position()).toEqual({ pan: 0.25, tilt: -0.125, zoom: 0.05 });
    expect(h.status().moving).toEqual({ panTilt: true, zoom: true });
    advance(1000);
    expect(h.position()).toEqual({ pan: 0.5, tilt: -0.25, zoom: 0.1 });
    expect(h.status().moving).toEqual({ panTilt: false, zoom: false });
  });

  it('stops at the end of the range and reports idle there', () => {
    const { head: h, advance } = head();
    h.continuousMove({ pan: -1, zoom: -1 }, 60_000);
    advance(10_000);
    expect(h.position()).toEqual({ pan: -1, tilt: 0, zoom: 0 });
    expect(h.status().moving).toEqual({ panTilt: false, zoom: false });
  });

  it('Stop halts only the axes asked for', () => {
    const { head: h, advance } = head();
    h.continuousMove({ pan: 1, tilt: 0, zoom: 1 }, 10_000);
    advance(200);
    h.stop(true, false);
    advance(200);
    expect(h.position()).toEqual({ pan: 0.1, tilt: 0, zoom: 0.2 });
    expect(h.status().moving).toEqual({ panTilt: false, zoom: true });
  });

  it('stores, recalls and removes presets', () => {
    const { head: h, advance } = head();
    h.continuousMove({ pan: 1 }, 1000);
    advance(1000);
    const door = h.setPreset('Door', undefined);
    expect(door).toEqual({ ok: true, token: '1' });
    expect(h.setPreset('Door', undefined)).toEqual({ ok: false, error: 'name-exists' });
    expect(h.setPreset('X', 'nope')).toEqual({ ok: false, error: 'no-token' });
    h.moveTo({ pan: -1 });
    advance(10_000);
    expect(h.position().pan).toBe(-1);
    expect(h.gotoPreset('1')).toBe(true);
    expect(h.status().moving.panTilt).toBe(true);
    advance(1000);
    expect(h.position().pan).toBeCloseTo(-0.5);
    advance(10_000);
    expect(h.position().pan).toBe(0.5);
    expect(h.removePreset('1')).toBe(true);
    expect(h.gotoPreset('1')).toBe(false);
  });

  it('bounds the number of presets', () => {
    const h = new PtzHead({ maxPresets: 2 });
    expect(h.setPreset('a', undefined).ok).toBe(true);
    expect(h.setPreset('b', undefined).ok).toBe(true);
    expect(h.setPreset('c', undefined)).toEqual({ ok: false, error: 'too-many' });
    expect(h.setPreset('a2', '1')).toEqual({ ok: true, token: '1' });
    expect(h.setPreset('x'.repeat(65), undefined)).toEqual({ ok: false, error: 'bad-name' });
  });
});
