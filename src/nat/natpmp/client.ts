/**
 * NAT-PMP (RFC 6886) and PCP (RFC 6887) client for one gateway: requests go out one at a time over a UDP
 * socket connected to gateway:5351, retransmitted after 250 ms, doubling (RFC 6886 section 3.1; bounded by
 * maxAttempts), and every reply's epoch is watched: a gateway that lost its state (epoch went back, e.g. a
 * reboot) is reported through onEpochReset so that the owner re-maps everything.
 *
 * probe() decides the protocol: PCP ANNOUNCE first (when allowed); a version-0 reply or UNSUPP_VERSION means
 * "NAT-PMP only", and the client then speaks NAT-PMP.
 */
import type { Clock, Timer, Logger, Random } from '../../core/index.js';
import { BtError } from '../../core/index.js';
import { NatError } from '../types.js';
import type { NatProtocol, NatUdpFactory, NatUdpSocket } from '../types.js';
import {
  NATPMP_PORT,
  NATPMP_RESULTS,
  NATPMP_UNSUPPORTED_VERSION,
  decodeNatPmpResponse,
  encodeExternalAddressRequest,
  encodeMapRequest,
  epochLost,
} from './codec.js';
import type { NatPmpResponse } from './codec.js';
import {
  PCP_NONCE_BYTES,
  PCP_OP_ANNOUNCE,
  PCP_OP_MAP,
  PCP_RESULTS,
  PCP_UNSUPP_VERSION,
  PCP_VERSION,
  decodePcpResponse,
  encodePcpAnnounce,
  encodePcpMap,
} from './pcp-codec.js';
import type { PcpResponse } from './pcp-codec.js';

export const NATPMP_INITIAL_TIMEOUT_MS = 250;
/** RFC 6886: up to 9 attempts (about 64 s in all before giving up). */
export const NATPMP_MAX_ATTEMPTS = 9;

export interface NatPmpClientOptions {
  gateway: string;
  udp: NatUdpFactory;
  clock: Clock;
  random: Random;
  logger?: Logger;
  port?: number;
  initialTimeoutMs?: number;
  /** Transmissions per request before it fails with a timeout (default 9). */
  maxAttempts?: number;
  /** Try PCP first (default true). */
  pcp?: boolean;
}

export interface NatPmpMapping {
  protocol: NatProtocol;
  internalPort: number;
  externalPort: number;
  /** Seconds granted by the gateway. */
  lifetime: number;
  /** External address when the protocol reports it (PCP MAP does, NAT-PMP mapping replies do not). */
  externalAddress?: string;
}

type Reply = { natpmp: NatPmpResponse } | { pcp: PcpResponse };

interface Pending {
  packet: Uint8Array;
  matches: (r: Reply) => boolean;
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  what: string;
}

export class NatPmpClient {
  /** 'pcp' or 'natpmp' once probe() succeeded. */
  version: 'pcp' | 'natpmp' | undefined;
  private sock: NatUdpSocket | undefined;
  private readonly queue: Pending[] = [];
  private current: Pending | undefined;
  private timer: Timer | undefined;
  private closed = false;
  private lastEpoch: { epoch: number; at: number } | undefined;
  private readonly nonces = new Map<string, Uint8Array>();
  private epochListeners: (() => void)[] = [];
  lastExternalAddress: string | undefined;

  constructor(private readonly o: NatPmpClientOptions) {}

  get gateway(): string {
    return this.o.gateway;
  }

  /** Called when a reply shows that the gateway lost its mappings (RFC 6886 section 3.6). */
  onEpochReset(fn: () => void): void {
    this.epochListeners.push(fn);
  }

  private async socket(): Promise<NatUdpSocket> {
    if (this.closed) throw new BtError('ERR_CLOSED', 'NAT-PMP client closed', { op: 'message' });
    if (!this.sock) {
      const s = await this.o.udp({ connect: { address: this.o.gateway, port: this.o.port ?? NATPMP_PORT } });
      if (this.closed) {
        s.close();
        throw new BtError('ERR_CLOSED', 'NAT-PMP client closed', { op: 'message' });
      }
      s.onMessage((bytes, from) => this.onPacket(bytes, from.address));
      this.sock = s;
    }
    return this.sock;
  }

  private onPacket(bytes: Uint8Array, from: string): void {
    if (from !== this.o.gateway || !this.current) return; // RFC 6886: only the gateway's replies count
    let reply: Reply | undefined;
    const n = decodeNatPmpResponse(bytes);
    if (n) reply = { natpmp: n };
    else {
      const p = decodePcpResponse(bytes);
      if (p) reply = { pcp: p };
    }
    if (!reply || !this.current.matches(reply)) return;
    const cur = this.current;
    this.current = undefined;
    this.timer?.cancel();
    this.noteEpoch(reply);
    cur.resolve(reply);
    this.next();
  }

  private noteEpoch(r: Reply): void {
    const epoch = 'natpmp' in r ? r.natpmp.epoch : r.pcp.epoch;
    const resultOk = 'natpmp' in r ? r.natpmp.resultCode === 0 : r.pcp.resultCode === 0;
    if (!resultOk) return;
    const now = this.o.clock.now();
    const prev = this.lastEpoch;
    this.lastEpoch = { epoch, at: now };
    if (prev && epochLost(prev.epoch, prev.at, epoch, now)) {
      this.o.logger?.info(`gateway ${this.o.gateway} epoch went from ${prev.epoch} to ${epoch}: it lost its mappings`);
      for (const fn of this.epochListeners) fn();
    }
  }

  private request(packet: Uint8Array, what: string, matches: (r: Reply) => boolean): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.queue.push({ packet, matches, resolve, reject, what });
      if (!this.current) this.next();
    });
  }

  private next(): void {
    if (this.current || this.closed) return;
    const p = this.queue.shift();
    if (!p) return;
    this.current = p;
    const initial = this.o.initialTimeoutMs ?? NATPMP_INITIAL_TIMEOUT_MS;
    const max = Math.max(1, this.o.maxAttempts ?? NATPMP_MAX_ATTEMPTS);
    let attempt = 0;
    const fail = (e: Error): void => {
      if (this.current !== p) return;
      this.current = undefined;
      this.timer?.cancel();
      p.reject(e);
      this.next();
    };
    const send = (): void => {
      if (this.current !== p) return;
      if (attempt >= max) {
        fail(new NatError(`no reply from ${this.o.gateway}:${this.o.port ?? NATPMP_PORT} to ${p.what} after ${max} attempts`, { op: 'message', detail: {} }));
        return;
      }
      const wait = initial * 2 ** attempt;
      attempt++;
      this.timer = this.o.clock.setTimeout(send, wait);
      this.socket()
        .then((s) => s.send(p.packet, this.o.port ?? NATPMP_PORT, this.o.gateway))
        .catch((e: unknown) => fail(new NatError(`cannot send ${p.what} to ${this.o.gateway}: ${(e as Error).message}`, { op: 'message', cause: e })));
    };
    send();
  }

  /**
   * Find out whether the gateway speaks PCP or NAT-PMP (and fetch the external address with NAT-PMP).
   * Rejects with NatError when nothing answers.
   */
  async probe(): Promise<'pcp' | 'natpmp'> {
    if (this.o.pcp !== false) {
      const s = await this.socket();
      const local = s.localAddress();
      const r = await this.request(encodePcpAnnounce(local), 'PCP ANNOUNCE', (r) =>
        'pcp' in r ? r.pcp.opcode === PCP_OP_ANNOUNCE : r.natpmp.resultCode === NATPMP_UNSUPPORTED_VERSION,
      );
      if ('pcp' in r && r.pcp.version === PCP_VERSION && r.pcp.resultCode === 0) {
        this.version = 'pcp';
        return 'pcp';
      }
      if ('pcp' in r && r.pcp.resultCode !== PCP_UNSUPP_VERSION) {
        throw new NatError(`PCP ANNOUNCE refused: ${PCP_RESULTS[r.pcp.resultCode] ?? r.pcp.resultCode}`, {
          op: 'discover',
          detail: { method: 'pcp', resultCode: r.pcp.resultCode },
        });
      }
      this.o.logger?.debug(`gateway ${this.o.gateway} does not speak PCP: falling back to NAT-PMP`);
    }
    await this.externalAddress();
    this.version = 'natpmp';
    return 'natpmp';
  }

  /** NAT-PMP opcode 0 (PCP gateways that also speak NAT-PMP answer it too). */
  async externalAddress(): Promise<string> {
    const r = await this.request(encodeExternalAddressRequest(), 'NAT-PMP external address request', (r) => 'natpmp' in r && r.natpmp.kind === 'address');
    if (!('natpmp' in r) || r.natpmp.kind !== 'address') throw new Error('unreachable');
    if (r.natpmp.resultCode !== 0) {
      throw new NatError(`NAT-PMP external address request failed: ${NATPMP_RESULTS[r.natpmp.resultCode] ?? r.natpmp.resultCode}`, {
        op: 'message',
        detail: { method: 'natpmp', resultCode: r.natpmp.resultCode },
      });
    }
    this.lastExternalAddress = r.natpmp.address;
    return r.natpmp.address;
  }

  private nonceFor(protocol: NatProtocol, internalPort: number): Uint8Array {
    const k = `${protocol}:${internalPort}`;
    let n = this.nonces.get(k);
    if (!n) {
      n = this.o.random.bytes(PCP_NONCE_BYTES);
      this.nonces.set(k, n);
    }
    return n;
  }

  /** Create or renew a mapping (lifetime in seconds). */
  async map(protocol: NatProtocol, internalPort: number, suggestedExternalPort: number, lifetime: number): Promise<NatPmpMapping> {
    if (lifetime <= 0) throw new RangeError('lifetime must be positive (use unmap to delete)');
    if (this.version === 'pcp') return this.pcpMap(protocol, internalPort, suggestedExternalPort, lifetime);
    const r = await this.natpmpMap(protocol, internalPort, suggestedExternalPort, lifetime);
    const m: NatPmpMapping = { protocol, internalPort, externalPort: r.externalPort, lifetime: r.lifetime };
    if (this.lastExternalAddress) m.externalAddress = this.lastExternalAddress;
    return m;
  }

  /** Delete a mapping (lifetime 0). */
  async unmap(protocol: NatProtocol, internalPort: number, externalPort: number): Promise<void> {
    if (this.version === 'pcp') {
      await this.pcpMap(protocol, internalPort, externalPort, 0);
      return;
    }
    await this.natpmpMap(protocol, internalPort, 0, 0);
  }

  private async natpmpMap(protocol: NatProtocol, internalPort: number, externalPort: number, lifetime: number): Promise<{ externalPort: number; lifetime: number }> {
    const what = `NAT-PMP ${protocol.toUpperCase()} ${lifetime === 0 ? 'unmap' : 'map'} of port ${internalPort}`;
    const r = await this.request(encodeMapRequest({ protocol, internalPort, externalPort, lifetime }), what, (r) =>
      'natpmp' in r && r.natpmp.kind === 'map' && r.natpmp.protocol === protocol && (r.natpmp.internalPort === internalPort || r.natpmp.resultCode !== 0),
    );
    if (!('natpmp' in r) || r.natpmp.kind !== 'map') throw new Error('unreachable');
    if (r.natpmp.resultCode !== 0) {
      throw new NatError(`${what} failed: ${NATPMP_RESULTS[r.natpmp.resultCode] ?? `result ${r.natpmp.resultCode}`}`, {
        op: lifetime === 0 ? 'unmap' : 'map',
        detail: { method: 'natpmp', resultCode: r.natpmp.resultCode },
      });
    }
    return { externalPort: r.natpmp.externalPort, lifetime: r.natpmp.lifetime };
  }

  private async pcpMap(protocol: NatProtocol, internalPort: number, suggestedExternalPort: number, lifetime: number): Promise<NatPmpMapping> {
    const s = await this.socket();
    const nonce = this.nonceFor(protocol, internalPort);
    const what = `PCP MAP ${protocol.toUpperCase()} ${lifetime === 0 ? 'delete' : 'request'} of port ${internalPort}`;
    const packet = encodePcpMap({ clientAddress: s.localAddress(), lifetime, nonce, protocol, internalPort, suggestedExternalPort });
    const r = await this.request(packet, what, (r) => {
      if (!('pcp' in r)) return false;
      if (r.pcp.opcode !== PCP_OP_MAP) return false;
      if (!r.pcp.map) return r.pcp.resultCode !== 0;
      return r.pcp.map.nonce.every((b, i) => b === nonce[i]) && r.pcp.map.internalPort === internalPort;
    });
    if (!('pcp' in r)) throw new Error('unreachable');
    if (r.pcp.resultCode !== 0) {
      throw new NatError(`${what} failed: ${PCP_RESULTS[r.pcp.resultCode] ?? `result ${r.pcp.resultCode}`}`, {
        op: lifetime === 0 ? 'unmap' : 'map',
        detail: { method: 'pcp', resultCode: r.pcp.resultCode },
      });
    }
    if (lifetime === 0) this.nonces.delete(`${protocol}:${internalPort}`);
    const m = r.pcp.map!;
    if (m.externalAddress && m.externalAddress !== '0.0.0.0') this.lastExternalAddress = m.externalAddress;
    return { protocol, internalPort, externalPort: m.externalPort, lifetime: r.pcp.lifetime, externalAddress: m.externalAddress };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    const err = new BtError('ERR_CLOSED', 'NAT-PMP client closed', { op: 'message' });
    const all = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = undefined;
    for (const p of all) p.reject(err);
    this.sock?.close();
    this.sock = undefined;
    this.epochListeners = [];
  }
}
