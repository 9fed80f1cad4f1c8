/**
 * aria2c as a downloading peer. aria2 cannot be handed a peer address: it takes peers from trackers,
 * DHT or LPD, and accepts incoming connections on --listen-port, so the other side must DIAL it.
 * With --seed-time=0 it exits (status 0) as soon as the download is complete and verified.
 */
import { mkdir } from 'node:fs/promises';
import type { Harness } from './harness.js';
import type { Proc } from './procs.js';
import { freePort, waitForListen } from './ports.js';

export interface Aria2Peer {
  proc: Proc;
  port: number;
  downloadDir: string;
  /** Resolves with the seconds waited once aria2c exits 0; rejects on a non-zero exit or timeout. */
  waitFinished(timeoutMs: number): Promise<number>;
}

export async function startAria2Download(
  h: Harness,
  torrent: string,
  downloadDir: string,
  o: { port?: number; name?: string } = {},
): Promise<Aria2Peer> {
  const port = o.port ?? (await freePort());
  const name = o.name ?? 'aria2c';
  await mkdir(downloadDir, { recursive: true });
  const proc = h.procs.spawn(
    'aria2c',
    [
      '--no-conf=true',
      `--dir=${downloadDir}`,
      `--listen-port=${port}`,
      '--interface=127.0.0.1',
      '--disable-ipv6=true',
      '--seed-time=0',
      '--enable-dht=false',
      '--enable-dht6=false',
      '--bt-enable-lpd=false',
      '--enable-peer-exchange=false',
      '--bt-save-metadata=false',
      '--file-allocation=none',
      '--allow-overwrite=true',
      '--auto-file-renaming=false',
      '--summary-interval=1',
      '--console-log-level=notice',
      '--show-console-readout=false',
      '--stop=600',
      torrent,
    ],
    { name, env: { ...process.env, HOME: h.path(`${name}-home`) } },
  );
  await waitForListen(port, 20_000, () => proc.running, name);
  h.note(`${name} (pid ${proc.pid}) listening on 127.0.0.1:${port}`);
  return {
    proc,
    port,
    downloadDir,
    async waitFinished(timeoutMs: number): Promise<number> {
      const t0 = Date.now();
      const st = await proc.waitForExit(timeoutMs);
      if (st.code !== 0) throw new Error(`${name} exited with ${JSON.stringify(st)}\n${proc.tail()}`);
      return (Date.now() - t0) / 1000;
    },
  };
}
