/**
 * nginx (Debian's nginx-light) as a real HTTP server for web seed tests (BEP 19): serves `root` on 127.0.0.1,
 * in the foreground (daemon off, no master process), with every path it writes under the harness dir, so the test
 * owns the process (stopped by PID with the harness) and nothing outside its temp dir.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Harness } from './harness.js';
import { freePort, waitForListen } from './ports.js';
import type { Proc } from './procs.js';
import { which } from './tools.js';

export interface Nginx {
  port: number;
  proc: Proc;
  /** http://127.0.0.1:PORT/ */
  url: string;
}

export async function startNginx(h: Harness, root: string, name = 'nginx'): Promise<Nginx> {
  const port = await freePort();
  const dir = h.path(`${name}-run`);
  mkdirSync(dir, { recursive: true });
  const conf = `${dir}/nginx.conf`;
  writeFileSync(
    conf,
    [
      'daemon off;',
      'master_process off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      'error_log stderr warn;',
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${dir}/body;`,
      `  proxy_temp_path ${dir}/proxy;`,
      `  fastcgi_temp_path ${dir}/fastcgi;`,
      `  uwsgi_temp_path ${dir}/uwsgi;`,
      `  scgi_temp_path ${dir}/scgi;`,
      '  sendfile on;',
      '  server {',
      `    listen 127.0.0.1:${port};`,
      `    root ${root};`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const proc = h.procs.spawn(which('nginx') ?? 'nginx', ['-c', conf, '-p', dir, '-e', 'stderr'], { name });
  await waitForListen(port, 10_000, () => proc.running, name);
  h.note(`${name} (pid ${proc.pid}) serving ${root} on 127.0.0.1:${port}`);
  return { port, proc, url: `http://127.0.0.1:${port}/` };
}
