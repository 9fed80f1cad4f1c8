/**
 * A real home router for port-forwarding tests: Debian's miniupnpd (nftables backend) with UPnP IGD,
 * NAT-PMP and PCP, in network namespaces this module creates and deletes.
 *
 *   [<prefix>-client] eth0 192.168.77.2/24, default via .1       <- the PortForwarder runs here
 *          | veth
 *   [<prefix>-router] int0 192.168.77.1/24 (SSDP, HTTP :5000, NAT-PMP/PCP :5351)
 *                     ext0 10.77.0.1/24, ip_forward, nft table inet filter + miniupnpd chains
 *          | veth
 *   [<prefix>-wan]    eth0 10.77.0.2/24 + 10.77.0.3/24: stund (STUN, RFC 3489)
 *
 * Why STUN: miniupnpd 2.3 refuses to forward when its WAN address is private or reserved (10/8, 192.168/16,
 * 100.64/10, the documentation ranges ...), and rejects `ext_ip=<private>`. With `ext_perform_stun=yes` it
 * asks a STUN server; when all four RFC 3489 probes come back unfiltered it decides it sits behind a 1:1
 * full-cone NAT and forwards, using the STUN-reported address (10.77.0.1) as its external one. Debian's
 * stund answers those probes (it needs two addresses). No public address is involved.
 *
 * Gotchas baked in: Debian's /etc/miniupnpd/nft_init.sh needs iptables (packaging bug), so the ruleset is
 * loaded here with `nft -f`; miniupnpd only needs its chains to exist. `secure_mode=yes`: a LAN host may
 * only map to itself (718 otherwise); the permission rules refuse ports below 1024 (606).
 *
 * Namespaces are named `tkn-<pid>-<role>`; namespaces of dead test processes are deleted at the next start.
 * `ip netns exec NS daemon` execs the daemon, so the PIDs ProcGroup records are the daemons' own.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Harness } from './harness.js';
import { pollUntil } from './harness.js';
import type { Proc } from './procs.js';

export const ROUTER_LAN_IP = '192.168.77.1';
export const CLIENT_IP = '192.168.77.2';
export const ROUTER_WAN_IP = '10.77.0.1';
export const WAN_IP = '10.77.0.2';
export const WAN_IP2 = '10.77.0.3';
export const HTTP_PORT = 5000;

/** Run a command; throw with its output when it fails. */
export function sh(cmd: string, args: readonly string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}): { status: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 20_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const status = r.status ?? -1;
  if (status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} failed (${status}): ${out.trim() || r.error?.message}`);
  return { status, out };
}

/** Run `cmd` inside namespace `ns`. */
export function nsExec(ns: string, cmd: string, args: readonly string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}): { status: number; out: string } {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

function listNetns(): string[] {
  const r = sh('ip', ['netns', 'list'], { allowFail: true });
  return r.out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** Delete `tkn-<pid>-*` namespaces whose test process is gone (a crashed earlier run). */
export function removeStaleNamespaces(): void {
  for (const ns of listNetns()) {
    const m = /^tkn-(\d+)-/.exec(ns);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) sh('ip', ['netns', 'del', ns], { allowFail: true });
  }
}

/** Namespaces created through this object; deleteAll() removes them (after their processes are stopped). */
export class Namespaces {
  private readonly created: string[] = [];
  private seq = 0;
  constructor(readonly prefix = `tkn-${process.pid}`) {}

  add(role: string): string {
    const ns = `${this.prefix}-${role}`;
    if (listNetns().includes(ns)) sh('ip', ['netns', 'del', ns], { allowFail: true });
    sh('ip', ['netns', 'add', ns]);
    this.created.push(ns);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A veth pair between two namespaces, created in place (no temporary names in the current namespace). */
  veth(nsA: string, ifA: string, nsB: string, ifB: string): void {
    const tmpA = `tkv${process.pid % 100000}a${++this.seq}`;
    const tmpB = `tkv${process.pid % 100000}b${this.seq}`;
    sh('ip', ['link', 'add', tmpA, 'netns', nsA, 'type', 'veth', 'peer', 'name', tmpB, 'netns', nsB]);
    sh('ip', ['-n', nsA, 'link', 'set', tmpA, 'name', ifA]);
    sh('ip', ['-n', nsB, 'link', 'set', tmpB, 'name', ifB]);
    sh('ip', ['-n', nsA, 'link', 'set', ifA, 'up']);
    sh('ip', ['-n', nsB, 'link', 'set', ifB, 'up']);
  }

  deleteAll(): void {
    for (const ns of this.created.splice(0).reverse()) {
      const pids = sh('ip', ['netns', 'pids', ns], { allowFail: true }).out.trim();
      if (pids) process.stderr.write(`upnp-router: namespace ${ns} still has processes ${pids.replace(/\n/g, ' ')} (not ours to kill)\n`);
      sh('ip', ['netns', 'del', ns], { allowFail: true });
    }
  }
}

const RULESET = `table inet filter {
    chain forward {
        type filter hook forward priority 0; policy drop;
        ct state established,related accept
        iifname "int0" oifname "ext0" accept
        jump miniupnpd
    }
    chain miniupnpd { }
    chain prerouting {
        type nat hook prerouting priority -100; policy accept;
        jump prerouting_miniupnpd
    }
    chain postrouting {
        type nat hook postrouting priority 100; policy accept;
        jump postrouting_miniupnpd
        oifname "ext0" masquerade
    }
    chain prerouting_miniupnpd { }
    chain postrouting_miniupnpd { }
}
`;

export interface UpnpRouter {
  clientNs: string;
  routerNs: string;
  wanNs: string;
  miniupnpd: Proc;
  stund: Proc;
  rootDescUrl: string;
  /** `upnpc -i -u <rootDesc> ...args` in the client namespace (skips the SSDP wait). */
  upnpc(args: readonly string[]): string;
  /** Mapping lines of `upnpc -l`: e.g. "TCP  6881->192.168.77.2:6881  'torrentkit' '' 3595". */
  listMappings(): string[];
  /** `nft list chain inet filter prerouting_miniupnpd` in the router namespace. */
  nftRules(): string;
  /** Stop miniupnpd and stund (also deferred on the harness, ahead of the namespaces' deletion); idempotent. */
  stop(): Promise<void>;
}

/**
 * Build the three namespaces and start stund and miniupnpd; resolves when miniupnpd has port forwarding
 * enabled and listens on HTTP and 5351. `igdV1` makes miniupnpd describe itself as IGD v1. The daemons' stop is
 * deferred on `h` here; call it after `nss`'s cleanup was deferred, so it runs first (defers run in reverse).
 */
export async function startUpnpRouter(h: Harness, nss: Namespaces, opts: { igdV1?: boolean; tag?: string } = {}): Promise<UpnpRouter> {
  const tag = opts.tag ?? '';
  const wanNs = nss.add(`wan${tag}`);
  const routerNs = nss.add(`router${tag}`);
  const clientNs = nss.add(`client${tag}`);
  nss.veth(routerNs, 'ext0', wanNs, 'eth0');
  nss.veth(routerNs, 'int0', clientNs, 'eth0');
  sh('ip', ['-n', routerNs, 'addr', 'add', `${ROUTER_WAN_IP}/24`, 'dev', 'ext0']);
  sh('ip', ['-n', routerNs, 'addr', 'add', `${ROUTER_LAN_IP}/24`, 'dev', 'int0']);
  sh('ip', ['-n', wanNs, 'addr', 'add', `${WAN_IP}/24`, 'dev', 'eth0']);
  sh('ip', ['-n', wanNs, 'addr', 'add', `${WAN_IP2}/24`, 'dev', 'eth0']);
  sh('ip', ['-n', clientNs, 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'eth0']);
  sh('ip', ['-n', clientNs, 'route', 'add', 'default', 'via', ROUTER_LAN_IP]);
  nsExec(routerNs, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  writeFileSync(h.path(`router${tag}.nft`), RULESET);
  nsExec(routerNs, 'nft', ['-f', h.path(`router${tag}.nft`)]);

  const conf = [
    'ext_ifname=ext0',
    'listening_ip=int0',
    `http_port=${HTTP_PORT}`,
    'enable_natpmp=yes',
    'enable_upnp=yes',
    'secure_mode=yes',
    'system_uptime=yes',
    'notify_interval=60',
    'clean_ruleset_interval=600',
    'uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07c',
    'friendly_name=torrentkit test router',
    'model_number=1',
    'serial=12345678',
    `lease_file=${h.path(`upnp${tag}.leases`)}`,
    'min_lifetime=2',
    'max_lifetime=86400',
    'ext_perform_stun=yes',
    `ext_stun_host=${WAN_IP}`,
    'ext_stun_port=3478',
    `force_igd_desc_v1=${opts.igdV1 ? 'yes' : 'no'}`,
    'allow 1024-65535 192.168.77.0/24 1024-65535',
    'deny 0-65535 0.0.0.0/0 0-65535',
    '',
  ].join('\n');
  writeFileSync(h.path(`miniupnpd${tag}.conf`), conf);
  writeFileSync(h.path(`upnp${tag}.leases`), '');

  const stund = h.procs.spawn('ip', ['netns', 'exec', wanNs, 'stund', '-h', WAN_IP, '-a', WAN_IP2], { name: `stund${tag}` });
  await stund.whileRunning(
    pollUntil(() => nsExec(wanNs, 'ss', ['-H', '-lnu', 'sport = :3478'], { allowFail: true }).out.trim() !== '', 5000, 'stund on udp 3478'),
  );
  const miniupnpd = h.procs.spawn(
    'ip',
    ['netns', 'exec', routerNs, 'miniupnpd', '-d', '-f', h.path(`miniupnpd${tag}.conf`), '-P', h.path(`miniupnpd${tag}.pid`)],
    { name: `miniupnpd${tag}` },
  );
  await miniupnpd.waitForLine('Port forwarding is now enabled', 10_000, 'miniupnpd STUN check', 'any');
  await miniupnpd.whileRunning(
    pollUntil(
      () =>
        nsExec(routerNs, 'ss', ['-H', '-lnu', 'sport = :5351'], { allowFail: true }).out.trim() !== '' &&
        nsExec(routerNs, 'ss', ['-H', '-lnt', `sport = :${HTTP_PORT}`], { allowFail: true }).out.trim() !== '',
      10_000,
      'miniupnpd listening on 5351/udp and 5000/tcp',
    ),
  );
  const rootDescUrl = `http://${ROUTER_LAN_IP}:${HTTP_PORT}/rootDesc.xml`;
  const upnpc = (args: readonly string[]): string => nsExec(clientNs, 'upnpc', ['-i', '-u', rootDescUrl, ...args], { allowFail: true }).out;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await miniupnpd.stop(3000);
      await stund.stop(3000);
    })());
  h.defer(stop);
  return {
    stop,
    clientNs,
    routerNs,
    wanNs,
    miniupnpd,
    stund,
    rootDescUrl,
    upnpc,
    listMappings: () =>
      upnpc(['-l'])
        .split('\n')
        .filter((l) => /^\s*\d+\s+(TCP|UDP)\s/.test(l))
        .map((l) => l.trim().replace(/^\d+\s+/, '')),
    nftRules: () => nsExec(routerNs, 'nft', ['list', 'chain', 'inet', 'filter', 'prerouting_miniupnpd'], { allowFail: true }).out,
  };
}
