/**
 * Foundation: torrents whose file paths would escape the output directory ('..', an absolute '/etc'
 * component, a '..' torrent name) are refused: exit code 3, stderr names the offending field, and nothing
 * is written inside or outside the output directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { withHarness } from '../helpers/harness.js';
import { rawMultiFileTorrent } from '../helpers/bencode.js';
import { tkDownload } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { listTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

const tag = `tk-unsafe-${randomBytes(4).toString('hex')}`;

const cases: { title: string; torrent: Buffer; field: string; component: string; outside: string[] }[] = [
  {
    title: "'..' component in info.files[0].path",
    torrent: rawMultiFileTorrent('evil', [
      { path: ['..', `${tag}.txt`], length: 20000 },
      { path: ['ok.txt'], length: 5000 },
    ]),
    field: 'info.files[0].path',
    component: '..',
    outside: [],
  },
  {
    title: "absolute '/etc' component in info.files[1].path",
    torrent: rawMultiFileTorrent('evil', [
      { path: ['ok.txt'], length: 5000 },
      { path: ['/etc', tag], length: 20000 },
    ]),
    field: 'info.files[1].path',
    component: '/etc',
    outside: [`/etc/${tag}`],
  },
  {
    title: "'..' as info.name",
    torrent: rawMultiFileTorrent('..', [{ path: [`${tag}.txt`], length: 20000 }]),
    field: 'info.name',
    component: '..',
    outside: [],
  },
];

for (const c of cases) {
  test(`unsafe torrent refused: ${c.title}`, { timeout: 60_000 }, async (t) => {
    if (!requireTools(t, ['torrentkit'])) return;
    await withHarness(t, 'unsafe-path', async (h) => {
      const torrent = h.path('evil.torrent');
      await writeFile(torrent, c.torrent);
      // box/: the only place the download may touch; box/out/: the output directory.
      const box = h.path('box');
      await mkdir(box);
      const out = h.path('box', 'out');
      const deadPeer = `127.0.0.1:${await freePort()}`; // nothing listens there
      const tk = tkDownload(h, torrent, out, ['--peer', deadPeer, '--listen', `127.0.0.1:${await freePort()}`]);
      const st = await tk.waitForExit(30_000);
      const stderr = tk.proc.stderr.slice(0, 2000);
      assert.equal(st.code, 3, `exit code 3 (invalid or unsafe torrent), got ${JSON.stringify(st)}; stderr: ${stderr}`);
      assert.ok(tk.proc.stderr.includes(c.field), `stderr names the field ${c.field}: ${stderr}`);
      assert.ok(tk.proc.stderr.includes(c.component), `stderr names the component ${c.component}: ${stderr}`);

      const inBox = (await listTree(box)).filter((e) => e.path !== 'out/');
      assert.deepEqual(inBox, [], 'nothing written next to the output directory');
      assert.deepEqual(await listTree(out), [], 'nothing written in the output directory');
      assert.deepEqual((await readdir(h.dir)).sort(), ['box', 'evil.torrent', 'logs'], 'nothing written above the output directory');
      for (const p of c.outside) assert.ok(!existsSync(p), `${p} must not exist`);
    });
  });
}
