/**
 * What node:dgram alone costs per datagram received: the floor under any uTP written on it (issue 6).
 *
 *   node dist/bench/udp-floor.js                 prints the figure (µs of CPU per datagram, user + sys)
 *   import { measureUdpFloor } from './udp-floor.js'   (bench/download.ts uses it for its uTP bound)
 *
 * A receiver process binds 127.0.0.1:0 with a 4 MiB receive buffer and an empty 'message' handler plus one
 * setImmediate per batch (what NodeUdpMux does); a sender process sends `count` datagrams of 1,472 bytes (what
 * libtorrent's uTP sends on loopback) at a bounded rate so the receiver does not drop. The receiver reports its own
 * CPU time (process.cpuUsage) from its first datagram to its last, divided by the datagrams it got. Both are this
 * file, run as child processes, so nothing else shares their event loop.
 */
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';

export interface UdpFloor {
  /** CPU microseconds (user + sys) per datagram received. */
  usPerDatagram: number;
  userUs: number;
  sysUs: number;
  received: number;
}

const SELF = fileURLToPath(import.meta.url);
const SIZE = 1472;

function receiver(): void {
  const s = dgram.createSocket('udp4');
  let n = 0;
  let scheduled = false;
  let c0: NodeJS.CpuUsage | undefined;
  let idle: NodeJS.Timeout | undefined;
  const endBatch = (): void => {
    scheduled = false;
  };
  const finish = (): void => {
    const u = process.cpuUsage(c0);
    const k = Math.max(1, n - 1);
    process.stdout.write(`${JSON.stringify({ usPerDatagram: (u.user + u.system) / k, userUs: u.user / k, sysUs: u.system / k, received: n })}\n`);
    s.close();
  };
  s.on('message', () => {
    if (n++ === 0) c0 = process.cpuUsage();
    if (!scheduled) {
      scheduled = true;
      setImmediate(endBatch);
    }
    // The sender is done when nothing arrives for 300 ms (the idle wait is not counted: the timer is re-armed
    // only every 4096 datagrams and the CPU figure is taken at the last datagram's batch).
    if ((n & 4095) === 1) {
      if (idle) clearTimeout(idle);
      idle = setTimeout(finish, 300);
    }
  });
  s.bind(0, '127.0.0.1', () => {
    try {
      s.setRecvBufferSize(4 * 1024 * 1024);
    } catch {
      /* default buffer: the sender's rate limit still keeps drops rare */
    }
    process.stdout.write(`${s.address().port}\n`);
  });
}

async function sender(port: number, count: number, perSecond: number): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const buf = Buffer.alloc(SIZE, 1);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    s.send(buf, port, '127.0.0.1');
    if ((i & 255) === 255) {
      const ahead = (i + 1) / perSecond - (performance.now() - t0) / 1000;
      await new Promise((r) => (ahead > 0.001 ? setTimeout(r, ahead * 1000) : setImmediate(r)));
    }
  }
  await new Promise((r) => setTimeout(r, 50));
  s.close();
}

/** Run receiver and sender as child processes; `count` datagrams at `perSecond`. */
export async function measureUdpFloor(count = 300_000, perSecond = 100_000): Promise<UdpFloor> {
  const rx = spawn(process.execPath, [SELF, 'recv'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const lines: string[] = [];
    let buf = '';
    let wake: (() => void) | undefined;
    rx.stdout.setEncoding('utf8');
    rx.stdout.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        wake?.();
      }
    });
    const line = async (k: number, ms: number): Promise<string> => {
      const deadline = Date.now() + ms;
      while (lines.length <= k) {
        if (Date.now() > deadline) throw new Error('udp-floor: the receiver did not answer');
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
      return lines[k]!;
    };
    const port = Number(await line(0, 10_000));
    const tx = spawn(process.execPath, [SELF, 'send', String(port), String(count), String(perSecond)], { stdio: 'inherit' });
    await new Promise((r) => tx.once('exit', r));
    return JSON.parse(await line(1, 10_000)) as UdpFloor;
  } finally {
    rx.kill();
  }
}

if (process.argv[1] === SELF) {
  const [mode, a, b, c] = process.argv.slice(2);
  if (mode === 'recv') receiver();
  else if (mode === 'send') await sender(Number(a), Number(b), Number(c));
  else {
    const f = await measureUdpFloor();
    process.stdout.write(
      `node:dgram receive, ${SIZE}-byte datagrams, ${f.received} received: ${f.usPerDatagram.toFixed(2)} µs CPU per datagram ` +
        `(user ${f.userUs.toFixed(2)}, sys ${f.sysUs.toFixed(2)})\n`,
    );
  }
}
