/**
 * UPnP IGD root device description (IGD v1 and v2): find the WAN*Connection services and their control
 * URLs, resolved against URLBase (v1 devices may set it) or else the description's own LOCATION. Pure.
 */
import { XMLParser } from 'fast-xml-parser';
import { NatError } from '../types.js';

/** WAN connection services in order of preference. */
export const WAN_SERVICE_TYPES: readonly string[] = [
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANPPPConnection:1',
];

export interface WanService {
  serviceType: string;
  /** Absolute control URL (http:). */
  controlUrl: string;
  /** 1 or 2 (from the service type's version). */
  version: number;
}

export interface DeviceDescription {
  deviceType: string | undefined;
  friendlyName: string | undefined;
  /** WAN*Connection services found anywhere in the device tree, best first (see WAN_SERVICE_TYPES). */
  services: WanService[];
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === 'device' || name === 'service',
});

type Node = Record<string, unknown>;

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return String(v);
  return undefined;
}

function list(v: unknown): Node[] {
  if (Array.isArray(v)) return v.filter((x): x is Node => typeof x === 'object' && x !== null);
  if (typeof v === 'object' && v !== null) return [v as Node];
  return [];
}

/** Parse XML that must not carry a DOCTYPE (entity tricks); throws NatError on malformed input. */
export function parseXml(xml: string, what: string): Node {
  if (/<!DOCTYPE/i.test(xml)) throw new NatError(`${what}: a DOCTYPE is not accepted`, { op: 'parse' });
  try {
    const doc = parser.parse(xml) as unknown;
    if (typeof doc !== 'object' || doc === null) throw new Error('not an XML document');
    return doc as Node;
  } catch (e) {
    throw new NatError(`${what}: malformed XML: ${(e as Error).message}`, { op: 'parse', cause: e });
  }
}

/**
 * Parse a root device description fetched from `location`. Services of an unknown type are ignored;
 * a control URL that does not resolve to http: is skipped. Throws NatError when the XML is malformed or
 * has no root device.
 */
export function parseDeviceDescription(xml: string, location: string): DeviceDescription {
  const doc = parseXml(xml, 'device description');
  const root = doc['root'];
  if (typeof root !== 'object' || root === null) throw new NatError('device description has no <root>', { op: 'parse' });
  const rootNode = root as Node;
  const base = text(rootNode['URLBase']) || location;
  const devices = list(rootNode['device']);
  if (devices.length === 0) throw new NatError('device description has no <device>', { op: 'parse' });

  const found: WanService[] = [];
  const stack: Node[] = [...devices];
  let visited = 0;
  while (stack.length > 0 && visited < 256) {
    const dev = stack.shift()!;
    visited++;
    const serviceList = dev['serviceList'];
    if (typeof serviceList === 'object' && serviceList !== null) {
      for (const svc of list((serviceList as Node)['service'])) {
        const serviceType = text(svc['serviceType']);
        const control = text(svc['controlURL']);
        if (!serviceType || !control || !WAN_SERVICE_TYPES.includes(serviceType)) continue;
        let url: URL;
        try {
          url = new URL(control, base);
        } catch {
          continue;
        }
        if (url.protocol !== 'http:') continue;
        found.push({ serviceType, controlUrl: url.href, version: Number(/:(\d+)$/.exec(serviceType)?.[1] ?? 1) });
      }
    }
    const deviceList = dev['deviceList'];
    if (typeof deviceList === 'object' && deviceList !== null) stack.push(...list((deviceList as Node)['device']));
  }
  found.sort((a, b) => WAN_SERVICE_TYPES.indexOf(a.serviceType) - WAN_SERVICE_TYPES.indexOf(b.serviceType));
  const top = devices[0]!;
  return { deviceType: text(top['deviceType']), friendlyName: text(top['friendlyName']), services: found };
}
