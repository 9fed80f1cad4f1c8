/**
 * UPnP IGD client: SSDP discovery through an injected UDP socket (multicast interface settable), the
 * root description fetched with bounded size and time, and the WAN*Connection actions a BitTorrent client
 * needs (AddPortMapping, DeletePortMapping, GetExternalIPAddress, GetSpecificPortMappingEntry).
 */
import type { Clock, Timer, Logger } from '../../core/index.js';
import { BtError } from '../../core/index.js';
import { NatError } from '../types.js';
import type { NatHttp, NatProtocol, NatUdpFactory } from '../types.js';
import { parseDeviceDescription } from './description.js';
import type { WanService } from './description.js';
import {
  UPNP_NO_SUCH_ENTRY,
  addPortMappingArgs,
  buildSoapRequest,
  deletePortMappingArgs,
  getSpecificPortMappingEntryArgs,
  parseSoapResponse,
} from './soap.js';
import type { AddPortMappingArgs, SoapArgs } from './soap.js';
import { IGD_SEARCH_TARGETS, SSDP_ADDRESS, SSDP_PORT, buildMSearch, isIgdSearchTarget, parseSsdpResponse } from './ssdp.js';

export const DEFAULT_SSDP_TIMEOUT_MS = 3000;
export const DEFAULT_UPNP_HTTP_TIMEOUT_MS = 5000;
export const DEFAULT_DESCRIPTION_MAX_BYTES = 128 * 1024;
export const DEFAULT_SOAP_MAX_BYTES = 16 * 1024;

export interface UpnpHttpOptions {
  http: NatHttp;
  timeoutMs?: number;
  maxBytes?: number;
}

export interface UpnpDiscoverOptions extends UpnpHttpOptions {
  udp: NatUdpFactory;
  clock: Clock;
  logger?: Logger;
  /** Local IPv4 address SSDP multicast leaves from (IP_MULTICAST_IF); default: the routing table's choice. */
  multicastInterface?: string;
  /** How long to wait for SSDP answers (default 3 s). */
  ssdpTimeoutMs?: number;
  searchTargets?: readonly string[];
  /** Accept a LOCATION only on the host that answered the search (default true: no redirecting us elsewhere). */
  sameHostOnly?: boolean;
  /** Largest description accepted (default 128 KiB). */
  descriptionMaxBytes?: number;
  signal?: AbortSignal;
}

export interface PortMappingEntry {
  internalPort: number;
  internalClient: string;
  enabled: boolean;
  description: string;
  leaseSeconds: number;
}

/** One WAN*Connection service of an IGD, ready for SOAP calls. */
export class UpnpGateway {
  constructor(
    /** Root description URL (SSDP LOCATION). */
    readonly location: string,
    readonly service: WanService,
    /** Our LAN address as the router saw it when we fetched the description. */
    readonly localAddress: string,
    private readonly o: UpnpHttpOptions,
  ) {}

  get host(): string {
    return new URL(this.location).hostname;
  }

  /** One SOAP action; resolves with the output arguments, rejects with NatError (detail.upnpCode on a fault). */
  async call(action: string, args: SoapArgs, signal?: AbortSignal): Promise<Record<string, string>> {
    const req = buildSoapRequest(this.service.serviceType, action, args);
    let res;
    try {
      res = await this.o.http({
        method: 'POST',
        url: this.service.controlUrl,
        headers: req.headers,
        body: req.body,
        timeoutMs: this.o.timeoutMs ?? DEFAULT_UPNP_HTTP_TIMEOUT_MS,
        maxBytes: this.o.maxBytes ?? DEFAULT_SOAP_MAX_BYTES,
        signal,
      });
    } catch (e) {
      if (e instanceof BtError && e.code === 'ERR_ABORTED') throw e;
      throw new NatError(`UPnP ${action} to ${this.service.controlUrl} failed: ${(e as Error).message}`, {
        op: 'message',
        cause: e,
        detail: { method: 'upnp' },
      });
    }
    if (res.status !== 200 && res.status !== 500) {
      throw new NatError(`UPnP ${action}: HTTP ${res.status}`, { op: 'message', detail: { method: 'upnp', httpStatus: res.status } });
    }
    return parseSoapResponse(res.body, action, res.status);
  }

  async getExternalIPAddress(signal?: AbortSignal): Promise<string> {
    const r = await this.call('GetExternalIPAddress', [], signal);
    const ip = r['NewExternalIPAddress'] ?? '';
    return ip;
  }

  async addPortMapping(a: AddPortMappingArgs, signal?: AbortSignal): Promise<void> {
    await this.call('AddPortMapping', addPortMappingArgs(a), signal);
  }

  async deletePortMapping(externalPort: number, protocol: NatProtocol, signal?: AbortSignal): Promise<void> {
    await this.call('DeletePortMapping', deletePortMappingArgs(externalPort, protocol), signal);
  }

  /** The mapping of `externalPort`, or undefined when the router has none (714 NoSuchEntryInArray). */
  async getSpecificPortMappingEntry(externalPort: number, protocol: NatProtocol, signal?: AbortSignal): Promise<PortMappingEntry | undefined> {
    let r: Record<string, string>;
    try {
      r = await this.call('GetSpecificPortMappingEntry', getSpecificPortMappingEntryArgs(externalPort, protocol), signal);
    } catch (e) {
      if (e instanceof NatError && e.detail.upnpCode === UPNP_NO_SUCH_ENTRY) return undefined;
      throw e;
    }
    return {
      internalPort: Number(r['NewInternalPort']),
      internalClient: r['NewInternalClient'] ?? '',
      enabled: r['NewEnabled'] === '1' || r['NewEnabled']?.toLowerCase() === 'true',
      description: r['NewPortMappingDescription'] ?? '',
      leaseSeconds: Number(r['NewLeaseDuration'] ?? 0),
    };
  }
}

/** Fetch and parse a root description; the first WAN service wins. Rejects with NatError. */
export async function fetchUpnpGateway(location: string, o: UpnpHttpOptions & { descriptionMaxBytes?: number; signal?: AbortSignal }): Promise<UpnpGateway> {
  let res;
  try {
    res = await o.http({
      method: 'GET',
      url: location,
      timeoutMs: o.timeoutMs ?? DEFAULT_UPNP_HTTP_TIMEOUT_MS,
      maxBytes: o.descriptionMaxBytes ?? DEFAULT_DESCRIPTION_MAX_BYTES,
      signal: o.signal,
    });
  } catch (e) {
    throw new NatError(`cannot fetch the device description ${location}: ${(e as Error).message}`, { op: 'discover', cause: e, detail: { method: 'upnp' } });
  }
  if (res.status !== 200) {
    throw new NatError(`device description ${location}: HTTP ${res.status}`, { op: 'discover', detail: { method: 'upnp', httpStatus: res.status } });
  }
  const desc = parseDeviceDescription(res.body, location);
  const svc = desc.services[0];
  if (!svc) throw new NatError(`device ${location} has no WANIPConnection / WANPPPConnection service`, { op: 'discover', detail: { method: 'upnp' } });
  return new UpnpGateway(location, svc, res.localAddress, o);
}

/**
 * Search for an IGD with SSDP and return the first one whose description has a WAN connection service, or
 * undefined when none answered within ssdpTimeoutMs (send failures such as ENETUNREACH also mean "none").
 */
export async function discoverUpnpGateway(o: UpnpDiscoverOptions): Promise<UpnpGateway | undefined> {
  const timeoutMs = o.ssdpTimeoutMs ?? DEFAULT_SSDP_TIMEOUT_MS;
  const targets = o.searchTargets ?? IGD_SEARCH_TARGETS;
  const sameHostOnly = o.sameHostOnly ?? true;
  const log = o.logger;
  let sock;
  try {
    sock = await o.udp({ multicastInterface: o.multicastInterface, multicastTtl: 2 });
  } catch (e) {
    log?.debug(`SSDP socket failed: ${(e as Error).message}`);
    return undefined;
  }
  const s = sock;
  return new Promise<UpnpGateway | undefined>((resolve) => {
    const tried = new Set<string>();
    let pending = 0;
    let done = false;
    let deadline = false;
    const timers: Timer[] = [];
    const finish = (gw: UpnpGateway | undefined): void => {
      if (done) return;
      done = true;
      for (const t of timers) t.cancel();
      o.signal?.removeEventListener('abort', onAbort);
      s.close();
      resolve(gw);
    };
    const onAbort = (): void => finish(undefined);
    if (o.signal?.aborted) return finish(undefined);
    o.signal?.addEventListener('abort', onAbort, { once: true });

    s.onMessage((bytes, from) => {
      if (done) return;
      const r = parseSsdpResponse(bytes);
      if (!r || !isIgdSearchTarget(r.st)) return;
      const host = new URL(r.location).hostname;
      if (sameHostOnly && host !== from.address) {
        log?.debug(`SSDP: ignoring ${r.location} announced by ${from.address}`);
        return;
      }
      if (tried.has(r.location) || tried.size >= 8) return;
      tried.add(r.location);
      pending++;
      fetchUpnpGateway(r.location, { ...o, signal: o.signal }).then(
        (gw) => finish(gw),
        (e: unknown) => {
          log?.debug(`UPnP: ${(e as Error).message}`);
          pending--;
          if (deadline && pending === 0) finish(undefined);
        },
      );
    });
    const send = (): void => {
      for (const st of targets) {
        s.send(buildMSearch(st, Math.ceil(timeoutMs / 2000)), SSDP_PORT, SSDP_ADDRESS).catch((e: unknown) => {
          log?.debug(`SSDP send failed: ${(e as Error).message}`);
        });
      }
    };
    send();
    // one resend for a lost datagram
    timers.push(o.clock.setTimeout(() => !done && send(), Math.min(1000, timeoutMs / 3)));
    timers.push(
      o.clock.setTimeout(() => {
        deadline = true;
        if (pending === 0) finish(undefined);
      }, timeoutMs),
    );
  });
}
