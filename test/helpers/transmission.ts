/**
 * transmission-cli (Transmission 3.00) as a downloading peer. It cannot be handed a peer address (and it
 * ignores 127.x peers from trackers), so the other side must DIAL it at its listen port. It keeps seeding
 * after the download; completion is detected by its finish script (-f), which writes a marker file.
 * Its own pacing: about 14 s before the first byte, then about 32 MB/s.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { Harness } from './harness.js';
import { pollUntil } from './harness.js';
import type { Proc } from './procs.js';
import { freePort, waitForListen } from './ports.js';

export interface TransmissionPeer {
  proc: Proc;
  port: number;
  downloadDir: string;
  /** Resolves once the torrent has finished downloading (finish script ran); rejects on timeout/exit. */
  waitFinished(timeoutMs: number): Promise<number>;
}

export async function startTransmissionDownload(
  h: Harness,
  torrent: string,
  downloadDir: string,
  o: { port?: number; name?: string; encryption?: 'required' | 'preferred' | 'tolerated' } = {},
): Promise<TransmissionPeer> {
  const port = o.port ?? (await freePort());
  const name = o.name ?? 'transmission';
  const configDir = h.path(`${name}-config`);
  const marker = h.path(`${name}-finished`);
  const script = h.path(`${name}-done.sh`);
  await mkdir(configDir, { recursive: true });
  await mkdir(downloadDir, { recursive: true });
  // Loopback only, no DHT/LPD/PEX/port mapping/uTP, no limits; settings.json is read from -g.
  const settings = {
    'bind-address-ipv4': '127.0.0.1',
    'bind-address-ipv6': '::1',
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': false,
    'port-forwarding-enabled': false,
    'blocklist-enabled': false,
    'peer-port': port,
    'peer-port-random-on-start': false,
    'download-dir': downloadDir,
    'incomplete-dir-enabled': false,
    'rename-partial-files': true,
    'speed-limit-up-enabled': false,
    'speed-limit-down-enabled': false,
    'alt-speed-enabled': false,
    'ratio-limit-enabled': false,
    'idle-seeding-limit-enabled': false,
    'start-added-torrents': true,
    'message-level': 2,
  };
  await writeFile(`${configDir}/settings.json`, JSON.stringify(settings, null, 2));
  await writeFile(script, `#!/bin/sh\necho "$TR_TORRENT_NAME" > '${marker}'\n`);
  await chmod(script, 0o755);
  const enc = { required: '-er', preferred: '-ep', tolerated: '-et' }[o.encryption ?? 'tolerated'];
  const proc = h.procs.spawn(
    'transmission-cli',
    ['-g', configDir, '-w', downloadDir, '-p', String(port), '-M', '-D', '-U', enc, '-f', script, torrent],
    { name, env: { ...process.env, HOME: configDir } },
  );
  await waitForListen(port, 20_000, () => proc.running, name);
  h.note(`${name} (pid ${proc.pid}) listening on 127.0.0.1:${port}`);
  let done = false;
  proc.onLine((line) => {
    if (/^Seeding/.test(line.trim())) done = true;
  });
  return {
    proc,
    port,
    downloadDir,
    async waitFinished(timeoutMs: number): Promise<number> {
      const t0 = Date.now();
      await pollUntil(
        () => {
          if (!proc.running) throw new Error(`${name} exited (${JSON.stringify(proc.exitStatus)}) before finishing\n${proc.tail()}`);
          return existsSync(marker) || done;
        },
        timeoutMs,
        `${name} to finish the download`,
        200,
      );
      return (Date.now() - t0) / 1000;
    },
  };
}
