/** The command line: commander definitions of every command and option, and run(argv) -> exit code. */
import { Command, Option } from 'commander';
import { collect, collectList, parseFileList, parsePort, parsePositiveInt, parsePositiveNumber, parseRate } from './args.js';
import { runCreate } from './commands/create.js';
import { runDaemon } from './commands/daemon.js';
import { runDownload } from './commands/download.js';
import { runInfo } from './commands/info.js';
import { runSeed } from './commands/seed.js';
import { runStream } from './commands/stream.js';
import { runVerify } from './commands/verify.js';
import { EXIT, exitCodeFor } from './exit.js';
import { VERSION } from './version.js';

/** Parse argv (as process.argv: node, script, args...) and run the command; resolves with the exit code. */
export async function run(argv: readonly string[], writeErr: (text: string) => void = (text) => void process.stderr.write(text)): Promise<number> {
  let code: number = EXIT.OK;
  try {
    await program((c) => {
      code = c;
    }).parseAsync([...argv]);
    return code;
  } catch (e) {
    return exitCodeFor(e, writeErr);
  }
}

/** The commands; `done` receives the exit code of the one that ran. */
export function program(done: (code: number) => void): Command {
  const p = new Command();
  p.name('torrentkit').description('BitTorrent client').version(VERSION);
  p.exitOverride();
  p.configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const withNet = (c: Command): Command =>
    c
      .addOption(new Option('--port <n>', 'TCP port to listen on (IPv4 and IPv6)').argParser(parsePort))
      .option('--listen <host:port>', 'listen endpoint (repeatable; overrides --port)', collect, [])
      .addOption(new Option('--tracker-timeout <ms>', 'bound on one tracker announce (HTTP and UDP)').argParser(parsePositiveInt))
      .addOption(
        new Option('--encryption <policy>', 'MSE/PE: plaintext only, prefer encryption (default), or require it').choices(['plaintext', 'prefer', 'require']),
      )
      .addOption(new Option('--transport <kind>', 'peer transports: tcp, utp (BEP 29) or both (default: TCP tried first, uTP as fallback and for incoming)').choices(['tcp', 'utp', 'both']))
      .addOption(
        new Option('--encryption-level <level>', 'MSE kinds allowed: full RC4, header-only (then plaintext), or both (default)').choices(['full', 'header', 'both']),
      )
      .addOption(new Option('--max-download-rate <rate>', 'download limit, bytes per second of piece data (k = KiB, M = MiB; 0 = none)').argParser(parseRate))
      .addOption(new Option('--max-upload-rate <rate>', 'upload limit, bytes per second of piece data (k = KiB, M = MiB; 0 = none)').argParser(parseRate))
      .option('--blocklist <file>', 'IP blocklist (CIDR, ranges, or P2P "name:a.b.c.d-e.f.g.h" lines): never connect to or accept these (repeatable)', collect, [])
      .option('--proxy <url>', 'SOCKS5 proxy (socks5://[user:pass@]host:port) for outgoing TCP peer connections, HTTP(S) trackers and web seeds')
      .option('--no-web-seeds', "do not download from the torrent's web seeds (BEP 19 url-list, a magnet's ws)")
      .option('--no-resume', "do not keep fast-resume data (DIR/.torrentkit/<info-hash>.resume): every start re-checks all data")
      .addOption(new Option('--resume-interval <seconds>', 'save fast-resume data at most this often while pieces are verified (default 30)').argParser(parsePositiveNumber))
      .option('--no-pex', 'no peer exchange (BEP 11)')
      .option('--no-lsd', 'no local peer discovery (BEP 14)')
      .option('--lsd-interface <addr>', 'interface address for local peer discovery multicast (e.g. 127.0.0.1)')
      .option('--no-dht', 'no DHT (BEP 5)')
      .option('--no-port-forwarding', 'no port mappings on the router (UPnP IGD, NAT-PMP, PCP)')
      .option('--dht-bootstrap <host:port,...>', 'DHT bootstrap nodes (default: the public routers)')
      .option('--dht-state <file>', 'where the DHT routing table is kept between runs (default: $XDG_STATE_HOME/torrentkit/dht.json)')
      .option('--no-dht-state', 'do not keep the DHT routing table between runs')
      .option('-v, --verbose', 'debug logging on stderr');

  // The options of the commands that run one torrent in the foreground (download, seed).
  const withTorrent = (c: Command): Command =>
    withNet(c)
      .option('--peer <host:port>', 'peer to connect to (repeatable)', collect, [])
      .option('--tracker <url>', "extra tracker announce URL (repeatable; one tier each, after the torrent's own)", collect, [])
      .addOption(new Option('--seed-ratio <r>', 'stop seeding once uploaded / size reaches this (e.g. 2)').argParser(parsePositiveNumber))
      .addOption(new Option('--seed-time <minutes>', 'stop seeding after this many minutes').argParser(parsePositiveNumber))
      .option('--json', 'machine-readable progress: one JSON object per line')
      .addOption(new Option('--progress-interval <ms>', 'progress report interval').argParser(parsePositiveInt).default(1000));

  p.command('create')
    .description('create a .torrent from a file or directory')
    .argument('<path>')
    .option('-o, --output <file>', 'output .torrent (default: <name>.torrent)')
    .option('--tracker <url>', 'announce URL (repeatable; one tier each)', collect, [])
    .option('--web-seed <url>', 'web seed (BEP 19 url-list) serving the same files over HTTP(S) (repeatable)', collect, [])
    .addOption(new Option('--piece-length <n>', 'piece length in bytes (default: automatic)').argParser(parsePositiveInt))
    .option('--private', 'set the private flag')
    .option('--comment <text>', 'comment')
    .option('--v2', 'a BitTorrent v2 (BEP 52) torrent only: SHA-256 merkle trees, no v1 piece hashes')
    .option('--hybrid', 'a v1 + v2 hybrid torrent (BEP 52), as libtorrent 2.0 makes by default')
    .action(async (path: string, o) => {
      done(await runCreate(path, o));
    });

  p.command('verify')
    .description('check the data under DIR against a .torrent (no network); exits 0 when complete, 1 when not')
    .argument('<torrent>')
    .requiredOption('--data <dir>', 'directory holding <name>/...')
    .option('--json', 'print JSON')
    .action(async (file: string, o) => {
      done(await runVerify(file, o));
    });

  p.command('info')
    .description('show what a .torrent or magnet link holds')
    .argument('<torrent-or-magnet>')
    .option('--json', 'print JSON')
    .action((src: string, o) => {
      done(runInfo(src, o));
    });

  withTorrent(
    p
      .command('download')
      .description('download a torrent; exits 0 once every (selected) file is complete and verified')
      .argument('<torrent-or-magnet>')
      .option('-o, --output <dir>', 'download directory', '.')
      .addOption(
        new Option('--select-files <list>', 'download only these files, numbered from 1 as `info` lists them: 1,3-5 (the others are skipped)').argParser(
          parseFileList,
        ),
      )
      .option('--sequential', 'download pieces in order (streaming) instead of rarest-first')
      .option('--seed', 'keep seeding after the download completes'),
  ).action(async (file: string, o) => {
    done(await runDownload(file, o));
  });

  withTorrent(
    p
      .command('stream')
      .description('download with streaming priority and serve the files over HTTP (Range) while they download; Ctrl-C stops')
      .argument('<torrent-or-magnet>')
      .option('-o, --output <dir>', 'download directory', '.')
      .addOption(new Option('--file <n>', 'stream (and download) only this file, numbered from 1 as `info` lists them').argParser(parsePositiveInt))
      .addOption(new Option('--http-port <port>', 'HTTP port (default: any free port)').argParser(parsePort))
      .option('--http-host <addr>', 'HTTP address to bind (default 127.0.0.1; other addresses serve any client)')
      .addOption(new Option('--window <bytes>', 'bytes ahead of each reader fetched first (default 32M; k = KiB, M = MiB)').argParser(parseRate))
      .option('--player <cmd>', 'run `<cmd> URL` (through the shell) on the first file; shut down when it exits'),
  ).action(async (file: string, o) => {
    done(await runStream(file, o));
  });

  withTorrent(
    p
      .command('seed')
      .description('seed a torrent from existing data until interrupted')
      .argument('<torrent>')
      .requiredOption('--data <dir>', 'directory holding <name>/...'),
  ).action(async (file: string, o) => {
    done(await runSeed(file, o));
  });

  withNet(
    p
      .command('daemon')
      .description("run a persistent session with Transmission's RPC (transmission-remote, the web UI, other Transmission clients) until interrupted")
      .option('--config-dir <dir>', 'settings.json, the session state and the torrents (default: $XDG_CONFIG_HOME/torrentkit or ~/.config/torrentkit)')
      .option('--download-dir <dir>', 'default download directory (default: ~/Downloads, or download-dir in settings.json)')
      .option('--rpc-bind <addr>', 'address the RPC listens on (default 127.0.0.1; any other needs --rpc-username/--rpc-password)')
      .addOption(new Option('--rpc-port <n>', 'RPC port (default 9091)').argParser(parsePort))
      .option('--rpc-username <name>', 'require HTTP basic auth with this user (or rpc-username in settings.json)')
      .option('--rpc-password <password>', 'its password (or rpc-password in settings.json, replaced by its hash on start)')
      .option('--rpc-host-whitelist <names>', 'extra Host names accepted (comma-separated, wildcards; "*" turns the DNS-rebinding check off)', collectList, [])
      .option('--rpc-whitelist <addrs>', 'client addresses allowed (comma-separated, wildcards like 192.168.*.*, or CIDR)', collectList, [])
      .option('--web-ui <dir>', 'the Transmission web UI to serve (default: $TRANSMISSION_WEB_HOME, /usr/share/transmission/web or public_html)')
      .option('--watch-dir <dir>', 'add .torrent files dropped here (renamed .added, or .invalid)'),
  ).action(async (o) => {
    done(await runDaemon(o));
  });
  return p;
}
