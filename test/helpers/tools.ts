/**
 * Which third-party programs the interop tests can use, and the skip-or-fail rule: a test whose peer
 * program is missing is reported SKIPPED with the reason, except under CI (env CI set), where it FAILS.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

export type Tool = 'libtorrent' | 'transmission-cli' | 'aria2c' | 'mktorrent' | 'torrentkit' | 'gnu-time' | 'opentracker' | 'bittorrent-tracker' | 'root'
  // the port-forwarding router (test/helpers/upnp-router.ts)
  | 'netns'
  // ffmpeg and ffprobe at /usr/bin (the streaming test)
  | 'ffmpeg'
  // a real HTTP server for web seeds (test/helpers/nginx.ts)
  | 'nginx'
  // a real SOCKS5 proxy (Debian's microsocks)
  | 'microsocks'
  | 'miniupnpd'
  | 'nftables'
  | 'stund'
  | 'miniupnpc'
  | 'natpmpc'
  // the daemon tests (test/helpers/daemon.ts): Debian's transmission-remote (transmission-cli), the stock web UI
  // files (transmission-common), headless chromium + the puppeteer-core dev dependency; `torrentkit daemon`, or
  // the stand-in transmission-daemon (TK_DAEMON_STANDIN=transmission)
  | 'transmission-remote'
  | 'transmission-daemon'
  | 'transmission-web'
  | 'chromium'
  | 'puppeteer-core'
  | 'torrentkit-daemon';

/** Debian's python: the pyenv python3 on PATH cannot import libtorrent. */
export const LT_PYTHON = process.env.LT_PY ?? '/usr/bin/python3';

/** The project root (the directory holding package.json), from this file's location in test/ or dist/test/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the project root (package.json) above ' + fileURLToPath(import.meta.url));
}

/**
 * Path of the CLI under test: the built dist/src/cli/main.js (`npm run build` makes it), or $TK_CLI
 * (a .js file run with node, or any other executable run as is).
 */
export function tkCliPath(): string {
  return process.env.TK_CLI || join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
}

/** Command and leading arguments to run the CLI under test. */
export function tkCliCommand(): [string, string[]] {
  const cli = tkCliPath();
  return /\.[cm]?js$/.test(cli) ? [process.execPath, [cli]] : [cli, []];
}

/**
 * npm test tools installed outside the project's own dependencies (scripts/install-test-tools.sh): packages
 * that cannot be installed by `npm ci` offline. $TK_NPM_TOOLS overrides `<repo>/.tools/npm`.
 */
export function npmToolsDir(): string {
  return process.env.TK_NPM_TOOLS || join(repoRoot(), '.tools', 'npm');
}

/** The server entry of the npm `bittorrent-tracker` package. */
export function btTrackerServerJs(): string {
  return join(npmToolsDir(), 'node_modules', 'bittorrent-tracker', 'server.js');
}

/** Debian's chromium for the web UI tests ($TK_CHROMIUM overrides /usr/bin/chromium). */
export function chromiumPath(): string {
  return process.env.TK_CHROMIUM || '/usr/bin/chromium';
}

/** The stock Transmission web UI (Debian transmission-common), or undefined. $TK_TRANSMISSION_WEB overrides. */
export function transmissionWebDir(): string | undefined {
  const dirs = process.env.TK_TRANSMISSION_WEB ? [process.env.TK_TRANSMISSION_WEB] : ['/usr/share/transmission/web', '/usr/share/transmission/public_html'];
  return dirs.find((d) => existsSync(join(d, 'index.html')));
}

/** Absolute path of an executable on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

const cache = new Map<Tool, string | null>();

/** Why `tool` is unusable (with how to fix it), or null when it is there. */
export function whyMissing(tool: Tool): string | null {
  const hit = cache.get(tool);
  if (hit !== undefined) return hit;
  let reason: string | null = null;
  switch (tool) {
    case 'libtorrent': {
      const r = spawnSync(LT_PYTHON, ['-c', 'import libtorrent'], { encoding: 'utf8', timeout: 30_000 });
      if (r.status !== 0) reason = `python3-libtorrent not importable by ${LT_PYTHON}: apt-get install python3-libtorrent`;
      break;
    }
    case 'transmission-cli':
      if (!which('transmission-cli')) reason = 'transmission-cli not installed: apt-get install transmission-cli';
      break;
    case 'aria2c':
      if (!which('aria2c')) reason = 'aria2c not installed: apt-get install aria2';
      break;
    case 'mktorrent':
      if (!which('mktorrent')) reason = 'mktorrent not installed: apt-get install mktorrent';
      break;
    case 'gnu-time':
      if (!existsSync('/usr/bin/time')) reason = 'GNU time not installed: apt-get install time';
      break;
    case 'opentracker':
      if (!which('opentracker') && !existsSync('/usr/bin/opentracker')) reason = 'opentracker not installed: apt-get install opentracker';
      break;
    case 'bittorrent-tracker':
      if (!existsSync(btTrackerServerJs())) reason = `npm bittorrent-tracker not installed at ${btTrackerServerJs()}: bash scripts/install-test-tools.sh`;
      break;
    case 'ffmpeg':
      if (!existsSync('/usr/bin/ffmpeg') || !existsSync('/usr/bin/ffprobe')) reason = 'ffmpeg/ffprobe not installed at /usr/bin: apt-get install ffmpeg';
      break;
    case 'root':
      if (process.getuid?.() !== 0) reason = 'needs root (opentracker chroots; network namespaces)';
      break;
    case 'netns': {
      if (process.getuid?.() !== 0) reason = 'needs root (network namespaces)';
      else if (!which('ip')) reason = 'ip not installed: apt-get install iproute2';
      else if (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 }).status !== 0) reason = '`ip netns` does not work here';
      break;
    }
    case 'microsocks':
      if (!which('microsocks')) reason = 'microsocks not installed: apt-get install microsocks';
      break;
    case 'nginx':
      if (!which('nginx')) reason = 'nginx not installed: apt-get install nginx-light';
      break;
    case 'miniupnpd':
      if (!which('miniupnpd')) reason = 'miniupnpd not installed: apt-get install miniupnpd miniupnpd-nftables';
      break;
    case 'nftables':
      if (!which('nft')) reason = 'nft not installed: apt-get install nftables';
      break;
    case 'stund':
      if (!which('stund')) reason = 'stund not installed: apt-get install stun-server';
      break;
    case 'miniupnpc':
      if (!which('upnpc')) reason = 'upnpc not installed: apt-get install miniupnpc';
      break;
    case 'natpmpc':
      if (!which('natpmpc')) reason = 'natpmpc not installed: apt-get install natpmpc';
      break;
    case 'torrentkit':
      if (!existsSync(tkCliPath())) reason = `torrentkit CLI not built (${tkCliPath()} missing): npm run build`;
      break;
    case 'transmission-remote':
      if (!which('transmission-remote')) reason = 'transmission-remote not installed: apt-get install transmission-cli';
      break;
    case 'transmission-daemon':
      if (!which('transmission-daemon')) reason = 'transmission-daemon not installed: apt-get install transmission-daemon';
      break;
    case 'transmission-web':
      if (!transmissionWebDir()) reason = 'the Transmission web UI files are missing (/usr/share/transmission/web): apt-get install transmission-common';
      break;
    case 'chromium':
      if (!existsSync(chromiumPath())) reason = `chromium not found at ${chromiumPath()}: apt-get install chromium`;
      break;
    case 'puppeteer-core':
      if (!existsSync(join(repoRoot(), 'node_modules', 'puppeteer-core', 'package.json'))) reason = 'puppeteer-core (dev dependency) not installed: npm ci';
      break;
    case 'torrentkit-daemon': {
      const missing = whyMissing('torrentkit');
      if (missing) {
        reason = missing;
        break;
      }
      const [cmd, lead] = tkCliCommand();
      const r = spawnSync(cmd, [...lead, 'daemon', '--help'], { encoding: 'utf8', timeout: 30_000 });
      // An unknown command's --help may print the top-level help and exit 0: the daemon's own help names --config-dir.
      if (r.status !== 0 || !/--config-dir/.test(r.stdout)) {
        const why = r.status !== 0 ? (r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n')[0] ?? '' : 'its help does not mention --config-dir';
        reason = `\`torrentkit daemon\` is not available yet (\`daemon --help\` exited ${r.status}: ${why.slice(0, 160)}); TK_DAEMON_STANDIN=transmission runs these tests against transmission-daemon`;
      }
      break;
    }
  }
  cache.set(tool, reason);
  return reason;
}

/** True when process.env.CI is set (to anything but '', '0' or 'false'). */
export function inCi(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/**
 * Check the tools a test needs. All present: returns true. Otherwise, outside CI: marks the test skipped
 * with the reasons and returns false (the test must return). Under CI: throws, so the test fails.
 */
export function requireTools(t: TestContext, tools: readonly Tool[]): boolean {
  const reasons = tools.map(whyMissing).filter((r): r is string => r !== null);
  if (reasons.length === 0) return true;
  const msg = reasons.join('; ');
  if (inCi()) throw new Error(`required for this interop test under CI: ${msg}`);
  t.skip(msg);
  return false;
}
