import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { XMLParser } from 'fast-xml-parser';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WsDiscoveryResponder, type DiscoverableDevice } from '../../src/discovery/ws-discovery';
import { Fleet } from '../../src/fleet';
import { generatedFleet } from '../../src/fleet-config';
import { buildProbe, WSD_ACTION } from '@schoolcam/protocol/discovery/ws-discovery-message';

const cameras: DiscoverableDevice[] = [
  { uuid: '11111111-2222-4333-8444-555555555501', name: 'Vchod', hardware: 'SC-200', school: 'zs-sokolov', xaddr: 'http://127.0.0.1:8001/onvif/device_service' },
  { uuid: '11111111-2222-4333-8444-555555555502', name: 'Jídelna', hardware: 'SC-PTZ', school: 'gym-cheb', xaddr: 'http://127.0.0.1:8002/onvif/device_service' },
];

interface Reply {
  action: string;
  relatesTo: string;
  messageId: string;
  address: string;
  scopes: string[];
  xaddrs: string;
}

const reader = new XMLParser({ removeNSPrefix: true, parseTagValue: false });
interface ParsedMatch {
  EndpointReference: { Address: string };
  Scopes: string;
  XAddrs: string;
}
interface ParsedReply {
  Envelope: {
    Header: { Action: string; RelatesTo: string; MessageID: string };
    Body: { ProbeMatches?: { ProbeMatch: ParsedMatch }; ResolveMatches?: { ResolveMatch: ParsedMatch } };
  };
}
function readReply(buf: Buffer): Reply {
  const env = (reader.parse(buf.toString()) as ParsedReply).Envelope;
  const match = env.Body.ProbeMatches?.ProbeMatch ?? env.Body.ResolveMatches?.ResolveMatch;
  if (!match) throw new Error('reply holds neither a ProbeMatch nor a ResolveMatch');
  return {
    action: env.Header.Action,
    relatesTo: env.Header.RelatesTo,
    messageId: env.Header.MessageID,
    address: match.EndpointReference.Address,
    scopes: String(match.Scopes).split(' '),
    xaddrs: match.XAddrs,
  };
}

/** A client socket on loopback that sends one datagram and collects every reply for `waitMs`. */
async function ask(port: number, payload: string | Buffer, waitMs = 300): Promise<Reply[]> {
  const socket: Socket = createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (m) => got.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  try {
    await new Promise<void>((resolve, reject) => socket.send(payload, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    await new Promise((r) => setTimeout(r, waitMs));
  } finally {
    await new Promise<void>((r) => socket.close(() => r()));
  }
  return got.map(readReply);
}

describe('WsDiscoveryResponder (directed probes on loopback)', () => {
  let responder: WsDiscoveryResponder;
  let devices: DiscoverableDevice[];

  beforeEach(async () => {
    devices = [...cameras];
    responder = await WsDiscoveryResponder.create({ interfaceAddress: '127.0.0.1', port: 0, multicast: false, devices: () => devices });
  });
  afterEach(async () => {
    await responder.close();
  });

  it('answers a directed Probe with one ProbeMatches per camera, RelatesTo = the probe MessageID', async () => {
    const messageId = `urn:uuid:${randomUUID()}`;
    const replies = await ask(responder.port, buildProbe({ messageId }));
    expect(replies).toHaveLength(2);
    for (const r of replies) {
      expect(r.action).toBe(WSD_ACTION.probeMatches);
      expect(r.relatesTo).toBe(messageId);
      expect(r.messageId).not.toBe(messageId);
    }
    expect(replies.map((r) => r.address).sort()).toEqual(cameras.map((c) => `urn:uuid:${c.uuid}`));
    const jidelna = replies.find((r) => r.address.endsWith('02'))!;
    expect(jidelna.xaddrs).toBe('http://127.0.0.1:8002/onvif/device_service');
    expect(jidelna.scopes).toContain('onvif://www.onvif.org/name/J%C3%ADdelna');
    expect(jidelna.scopes).toContain('onvif://www.onvif.org/location/gym-cheb');
    expect(jidelna.scopes).toContain('onvif://www.onvif.org/hardware/SC-PTZ');
    expect(responder.stats).toMatchObject({ probes: 1, matchesSent: 2 });
  });

  it('answers only the cameras whose scopes match, and reads devices() on every probe', async () => {
    const byLocation = await ask(responder.port, buildProbe({ messageId: 'urn:uuid:loc', scopes: ['onvif://www.onvif.org/location/zs-sokolov'] }));
    expect(byLocation.map((r) => r.address)).toEqual([`urn:uuid:${cameras[0].uuid}`]);
    expect(await ask(responder.port, buildProbe({ messageId: 'urn:uuid:none', scopes: ['onvif://www.onvif.org/location/elsewhere'] }))).toEqual([]);
    devices = [];
    expect(await ask(responder.port, buildProbe({ messageId: 'urn:uuid:gone' }))).toEqual([]);
  });

  it('answers Resolve for a known endpoint only', async () => {
    const probe = buildProbe({ messageId: 'urn:uuid:res' });
    const resolve = (addr: string) =>
      probe.replace(/<d:Probe>.*<\/d:Probe>/, `<d:Resolve><wsa:EndpointReference><wsa:Address>${addr}</wsa:Address></wsa:EndpointReference></d:Resolve>`);
    const replies = await ask(responder.port, resolve(`urn:uuid:${cameras[1].uuid}`));
    expect(replies).toMatchObject([{ action: WSD_ACTION.resolveMatches, relatesTo: 'urn:uuid:res', xaddrs: cameras[1].xaddr }]);
    expect(await ask(responder.port, resolve('urn:uuid:unknown'))).toEqual([]);
  });

  it('fault zeroXAddrs: replies announce 0.0.0.0 until switched off', async () => {
    responder.setZeroXAddrs(true);
    const faulty = await ask(responder.port, buildProbe({ messageId: 'urn:uuid:z1' }));
    expect(faulty.map((r) => r.xaddrs).sort()).toEqual(['http://0.0.0.0:8001/onvif/device_service', 'http://0.0.0.0:8002/onvif/device_service']);
    responder.setZeroXAddrs(false);
    const fixed = await ask(responder.port, buildProbe({ messageId: 'urn:uuid:z2' }));
    expect(fixed.map((r) => r.xaddrs).sort()).toEqual(cameras.map((c) => c.xaddr));
  });

  it('fault duplicates: every ProbeMatches arrives twice, identical; per-camera flag affects that camera only', async () => {
    responder.setDuplicates(true);
    const twice = await ask(responder.port, buildProbe({ messageId: 'urn:uuid:d1' }));
    expect(twice).toHaveLength(4);
    for (const c of cameras) {
      const mine = twice.filter((r) => r.address === `urn:uuid:${c.uuid}`);
      expect(mine).toHaveLength(2);
      expect(mine[0]).toEqual(mine[1]);
    }
    responder.setDuplicates(false);
    devices = [{ ...cameras[0], duplicates: true }, { ...cameras[1], zeroXAddrs: true }];
    const perCamera = await ask(responder.port, buildProbe({ messageId: 'urn:uuid:d2' }));
    expect(perCamera.filter((r) => r.address.endsWith('01'))).toHaveLength(2);
    expect(perCamera.filter((r) => r.address.endsWith('02')).map((r) => r.xaddrs)).toEqual(['http://0.0.0.0:8002/onvif/device_service']);
  });

  it('survives garbage, oversize and hostile datagrams and still answers the next probe', async () => {
    const junk = [
      Buffer.alloc(0),
      Buffer.from('<<<<'),
      Buffer.alloc(60_000, 0x3c),
      Buffer.from('<!DOCTYPE x [<!ENTITY a "a">]><Envelope/>'),
      Buffer.from(buildProbe({ messageId: 'urn:uuid:x' }).replace('</SOAP-ENV:Envelope>', '')),
    ];
    for (const j of junk) expect(await ask(responder.port, j, 20)).toEqual([]);
    const evilId = 'urn:x"/><wsa:To>&amp;</wsa:To>';
    const replies = await ask(responder.port, buildProbe({ messageId: evilId }));
    expect(replies.map((r) => r.relatesTo)).toEqual([evilId, evilId]);
    expect(responder.stats.ignored).toBeGreaterThanOrEqual(4);
  });

  it('close() is idempotent, emits close once and frees the port', async () => {
    let closes = 0;
    responder.on('close', () => closes++);
    const port = responder.port;
    await Promise.all([responder.close(), responder.close()]);
    await responder.close();
    expect(closes).toBe(1);
    const again = await WsDiscoveryResponder.create({ interfaceAddress: '127.0.0.1', port, multicast: false, devices: () => [] });
    await again.close();
  });

  it('refuses to start on a non-IPv4 interface address or a port already taken', async () => {
    await expect(WsDiscoveryResponder.create({ interfaceAddress: 'eth0', multicast: false, devices: () => [] })).rejects.toThrow(/IPv4/);
    await expect(WsDiscoveryResponder.create({ interfaceAddress: '127.0.0.1', port: responder.port, multicast: false, devices: () => [] })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('a single-host fleet with one responder per school (the demo)', () => {
  it('answers each school\'s directed probe with that school\'s cameras only, and the fleet-wide one with all', async () => {
    const fleet = await Fleet.create({ spec: generatedFleet(4, 2), discoveryInterface: 'none', discoveryPerSchool: true, logger: pino({ level: 'silent' }) });
    try {
      const cams = fleet.info().cameras;
      const schools = [...new Set(cams.map((c) => c.school))].sort();
      expect(schools).toHaveLength(2);
      expect(Object.keys(fleet.schoolDiscoveryPorts).sort()).toEqual(schools);
      for (const school of schools) {
        const replies = await ask(fleet.schoolDiscoveryPorts[school], buildProbe({ messageId: `urn:uuid:${randomUUID()}` }));
        expect(replies.map((r) => r.xaddrs).sort()).toEqual(cams.filter((c) => c.school === school).map((c) => c.onvif).sort());
      }
      expect(await ask(fleet.discovery.port, buildProbe({ messageId: `urn:uuid:${randomUUID()}` }))).toHaveLength(4);
    } finally {
      await fleet.close();
    }
  });
});
