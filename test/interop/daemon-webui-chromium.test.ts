/**
 * The daemon (issue 15) serves the stock Transmission web UI (Debian's transmission-common files, given with
 * --web-ui) at /transmission/web/; in headless chromium (puppeteer-core) it shows a torrent the daemon downloaded
 * from libtorrent at 100%, and the row's own pause button stops it: the daemon then reports it stopped over RPC.
 *
 * Runs against `torrentkit daemon`, or against transmission-daemon with TK_DAEMON_STANDIN=transmission.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { pollUntil, withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtSeed } from '../helpers/lt.js';
import { requireDaemon, startDaemon, TR_STATUS } from '../helpers/daemon.js';
import { launchChromium } from '../helpers/browser.js';
import { transmissionWebDir } from '../helpers/tools.js';

/** The little of the DOM the page functions use (the project compiles without lib "dom"). */
interface DomEl {
  textContent: string | null;
  className: string;
  style: { width: string };
  querySelector(sel: string): DomEl | null;
}
declare const document: { querySelectorAll(sel: string): Iterable<DomEl> };

interface RowView {
  found: boolean;
  /** style.width of the row's "complete" progress bar, e.g. '100%'. */
  bar: string;
  peers: string;
  progress: string;
  paused: boolean;
  button: string;
}

test('stock Transmission web UI in chromium: the torrent at 100%, its pause button stops it', { timeout: 180_000 }, async (t) => {
  if (!requireDaemon(t, ['libtorrent', 'transmission-web', 'chromium', 'puppeteer-core'])) return;
  await withHarness(t, 'daemon-webui', async (h) => {
    const web = transmissionWebDir()!;
    const payload = await makePayload(h.path('src'), { totalSize: 4 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const d = await startDaemon(h, { configDir: h.path('cfg'), downloadDir: h.path('dl'), webUi: web });

    // The files themselves first, for a clear failure if the daemon does not serve them.
    const index = await fetch(d.webUrl, { signal: AbortSignal.timeout(10_000) });
    const html = await index.text();
    assert.equal(index.status, 200, `GET ${d.webUrl}: HTTP ${index.status}`);
    assert.equal(html, await readFile(`${web}/index.html`, 'utf8'), `GET ${d.webUrl} serves ${web}/index.html`);

    const added = await d.rpc<{ 'torrent-added'?: { id: number } }>('torrent-add', { metainfo: (await readFile(made.torrent)).toString('base64') });
    const id = added['torrent-added']?.id;
    assert.ok(typeof id === 'number', `torrent-add: ${JSON.stringify(added)}`);
    const seed = await startLtSeed(h, made.torrent, payload.dir, { peers: [`127.0.0.1:${d.peerPort}`] });
    await seed.proc.whileRunning(
      pollUntil(async () => Number((await d.torrents(['percentDone'], [id]))[0]?.percentDone) === 1, 60_000, 'the daemon at 100%', 250),
      'libtorrent seeder',
    );
    h.note('daemon reports 100% over RPC');

    const browser = await launchChromium(h);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e).slice(0, 200)));
    page.setDefaultTimeout(20_000);
    await page.setViewport({ width: 1100, height: 600 });
    const t0 = Date.now();
    await page.goto(d.webUrl, { waitUntil: 'domcontentloaded', timeout: 20_000 });

    const view = (): Promise<RowView> =>
      page.evaluate((name: string) => {
        for (const li of document.querySelectorAll('li.torrent')) {
          if (li.querySelector('.torrent_name')?.textContent?.trim() !== name) continue;
          const bar = li.querySelector('.torrent_progress_bar.complete');
          return {
            found: true,
            bar: bar?.style.width ?? '',
            peers: li.querySelector('.torrent_peer_details')?.textContent?.trim() ?? '',
            progress: li.querySelector('.torrent_progress_details')?.textContent?.trim() ?? '',
            // the full (non-compact) row shows a stopped torrent by a paused progress bar and a resume button
            paused: !!li.querySelector('.torrent_progress_bar.paused') && li.querySelector(':scope > a > *')?.className === 'torrent_resume',
            button: li.querySelector(':scope > a > *')?.className ?? '',
          };
        }
        return { found: false, bar: '', peers: '', progress: '', paused: false, button: '' };
      }, payload.name);

    let row: RowView | undefined;
    try {
      row = await pollUntil(async () => {
        const v = await view();
        row = v;
        return v.found && v.bar === '100%' ? v : undefined;
      }, 30_000, 'the web UI row at 100%', 500);
    } catch (e) {
      throw new Error(`${(e as Error).message}: last view ${JSON.stringify(row)}; page errors: ${pageErrors.join(' | ') || 'none'}`);
    }
    h.note(`web UI row at 100% ${((Date.now() - t0) / 1000).toFixed(1)} s after loading: "${row.peers}" / "${row.progress}"`);
    assert.doesNotMatch(row.progress, /\(\d+(\.\d+)?%\)/, `a complete torrent shows no partial percentage: ${row.progress}`);

    // The row's own <a> is its pause/resume button.
    const rowHandle = await pollUntil(async () => {
      for (const li of await page.$$('li.torrent')) {
        const nm = await li.$eval('.torrent_name', (e) => e.textContent?.trim() ?? '').catch(() => '');
        if (nm === payload.name) return li;
      }
      return undefined;
    }, 5000, 'the row element');
    const button = await rowHandle.$(':scope > a');
    assert.ok(button, 'the row has a pause button');
    await button.click();
    const st = await pollUntil(async () => {
      const s = Number((await d.torrents(['status'], [id]))[0]?.status);
      return s === TR_STATUS.stopped ? { s } : undefined;
    }, 15_000, 'the daemon to report the torrent stopped after the pause click', 250);
    assert.equal(st.s, TR_STATUS.stopped);
    let lastView: RowView | undefined;
    const paused = await pollUntil(async () => {
      const v = await view();
      lastView = v;
      return v.paused ? v : undefined;
    }, 15_000, 'the web UI to show the row paused', 250).catch(async (e: Error) => {
      const html = await rowHandle.evaluate((el) => (el as unknown as { outerHTML: string }).outerHTML).catch(() => '?');
      throw new Error(`${e.message}: last view ${JSON.stringify(lastView)}; row ${html.slice(0, 1500)}`);
    });
    h.note(`paused from the web UI: RPC status ${st.s}, row button "${paused.button}", ${((Date.now() - t0) / 1000).toFixed(1)} s after loading`);

    const shot = h.path('webui.png');
    await page.screenshot({ path: shot });
    assert.ok((await stat(shot)).size > 1000, 'a screenshot');
    h.note(`screenshot ${shot} (KEEP_TMP=1 keeps it)`);
    assert.deepEqual(pageErrors, [], 'no JavaScript errors in the page');
    await seed.stop();
  });
});
