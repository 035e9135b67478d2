import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { MAX_RANGE_ADDRESSES, discoverCameras, parseAddressRange, resolveXaddr } from '../../src/discovery/discovery-client';
import { GatewayError } from '../../src/errors';

describe('XAddr resolution against the sender', () => {
  it('keeps an XAddr on the sender’s own address, preferring it over the others a camera lists', () => {
    expect(resolveXaddr(['http://192.168.5.5/onvif/device_service', 'http://10.0.0.7:8080/onvif/device_service'], '10.0.0.7', undefined)).toBe('http://10.0.0.7:8080/onvif/device_service');
  });

  it('replaces 0.0.0.0, loopback and link-local hosts with the sender’s address, keeping port and path', () => {
    expect(resolveXaddr(['http://0.0.0.0:8000/onvif/device_service'], '10.0.0.7', undefined)).toBe('http://10.0.0.7:8000/onvif/device_service');
    expect(resolveXaddr(['http://127.0.0.1/onvif/device_service'], '10.0.0.7', undefined)).toBe('http://10.0.0.7/onvif/device_service');
    expect(resolveXaddr(['https://169.254.3.4:443/onvif/device_service'], '10.0.0.7', undefined)).toBe('https://10.0.0.7/onvif/device_service');
  });

  it('skips XAddrs that are not http(s) or carry credentials, and gives up when none is left', () => {
    expect(resolveXaddr(['rtsp://10.0.0.7/x', 'http://user:pw@10.0.0.7/', 'not a url'], '10.0.0.7', undefined)).toBeUndefined();
    expect(resolveXaddr(['soap.udp://10.0.0.7', 'http://10.0.0.7/onvif/device_service'], '10.0.0.7', undefined)).toBe('http://10.0.0.7/onvif/device_service');
  });

  it('keeps a host name: it may resolve where the gateway runs', () => {
    expect(resolveXaddr(['http://cam-7.school.lan/onvif/device_service'], '10.0.0.7', undefined)).toBe('http://cam-7.school.lan/onvif/device_service');
  });
});

describe('address ranges for directed probes', () => {
  it('reads a dash range, a CIDR block (without network and broadcast) and one address', () => {
    expect(parseAddressRange('10.0.0.250-10.0.1.2')).toEqual(['10.0.0.250', '10.0.0.251', '10.0.0.252', '10.0.0.253', '10.0.0.254', '10.0.0.255', '10.0.1.0', '10.0.1.1', '10.0.1.2']);
    expect(parseAddressRange('192.168.1.0/30')).toEqual(['192.168.1.1', '192.168.1.2']);
    expect(parseAddressRange('192.168.1.9/32')).toEqual(['192.168.1.9']);
    expect(parseAddressRange(' 10.1.2.3 ')).toEqual(['10.1.2.3']);
    expect(parseAddressRange('10.0.0.0/24')).toHaveLength(254);
  });

  it('refuses what is not a range, a reversed one, and more than 4096 addresses, with a typed error', () => {
    for (const bad of ['', 'school', '10.0.0.1-10.0.0', '10.0.0.300', '10.0.0.0/33', '10.0.0.9-10.0.0.1', '10.0.0.0/16']) {
      expect(() => parseAddressRange(bad), bad).toThrow(GatewayError);
    }
    expect(parseAddressRange('10.0.0.0/20')).toHaveLength(MAX_RANGE_ADDRESSES - 2);
  });
});

describe('a gateway kept to loopback', () => {
  it('refuses multicast-only discovery, a real interface and an address outside 127.0.0.0/8, with a typed error', async () => {
    await expect(discoverCameras({ loopbackOnly: true, timeoutMs: 100 })).rejects.toThrow(/sends no multicast probe/);
    await expect(discoverCameras({ loopbackOnly: true, interfaceAddress: '192.0.2.1', targets: ['127.0.0.1'], timeoutMs: 100 })).rejects.toThrow(/no multicast on 192\.0\.2\.1/);
    await expect(discoverCameras({ loopbackOnly: true, targets: ['127.0.0.1', '10.0.0.7'], timeoutMs: 100 })).rejects.toThrow(GatewayError);
  });

  it('probes a loopback range directly even when multicast is asked for', async () => {
    const listener = createSocket('udp4');
    await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', resolve));
    const probes: string[] = [];
    listener.on('message', (msg) => probes.push(msg.toString('utf8')));
    try {
      const result = await discoverCameras({ loopbackOnly: true, multicast: true, targets: ['127.0.0.1'], port: listener.address().port, timeoutMs: 300 });
      expect(result.cameras).toEqual([]);
      expect(probes.length).toBeGreaterThanOrEqual(1);
      expect(probes[0]).toContain('NetworkVideoTransmitter');
    } finally {
      listener.close();
    }
  });
});
