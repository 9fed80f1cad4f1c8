/** Exit-code mapping (src/cli/exit.ts) and the command line's shape (src/cli/program.ts), without running a command. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { CliExit, EXIT, exitCodeFor } from '../../../src/cli/exit.js';
import { program, run } from '../../../src/cli/program.js';
import { BtError } from '../../../src/index.js';

function mapped(e: unknown): [number, string] {
  let err = '';
  const code = exitCodeFor(e, (t) => (err += t));
  return [code, err];
}

test('exitCodeFor: commander help/version 0, other commander errors 2 (nothing printed: commander did)', () => {
  assert.deepEqual(mapped(new CommanderError(0, 'commander.helpDisplayed', '')), [EXIT.OK, '']);
  assert.deepEqual(mapped(new CommanderError(0, 'commander.version', '')), [EXIT.OK, '']);
  assert.deepEqual(mapped(new CommanderError(1, 'commander.help', '')), [EXIT.USAGE, '']);
  assert.deepEqual(mapped(new CommanderError(1, 'commander.unknownCommand', 'x')), [EXIT.USAGE, '']);
  assert.deepEqual(mapped(new CommanderError(1, 'commander.invalidArgument', 'x')), [EXIT.USAGE, '']);
});

test('exitCodeFor: CliExit keeps its code; BtError 3 for bad torrents, 1 otherwise; anything else 1 with its stack', () => {
  assert.deepEqual(mapped(new CliExit(EXIT.USAGE, 'no such file')), [2, 'torrentkit: no such file\n']);
  assert.deepEqual(mapped(new BtError('ERR_UNSAFE_PATH', 'path escapes', { field: 'info.files' })), [3, 'torrentkit: path escapes (field info.files) [ERR_UNSAFE_PATH]\n']);
  assert.deepEqual(mapped(new BtError('ERR_METAINFO', 'bad')), [3, 'torrentkit: bad [ERR_METAINFO]\n']);
  assert.deepEqual(mapped(new BtError('ERR_BENCODE', 'bad')), [3, 'torrentkit: bad [ERR_BENCODE]\n']);
  assert.deepEqual(mapped(new BtError('ERR_STORAGE', 'disk full')), [1, 'torrentkit: disk full [ERR_STORAGE]\n']);
  const e = new Error('boom');
  assert.deepEqual(mapped(e), [1, `torrentkit: ${e.stack}\n`]);
  assert.deepEqual(mapped('plain'), [1, 'torrentkit: plain\n']);
});

test('program: the commands in help order, download/stream/seed/daemon with the network options', () => {
  const p = program(() => undefined);
  assert.deepEqual(p.commands.map((c) => c.name()), ['create', 'verify', 'info', 'download', 'stream', 'seed', 'daemon']);
  const flags = (name: string): string[] => p.commands.find((c) => c.name() === name)!.options.map((o) => o.long!);
  const net = flags('seed').filter((f) => f !== '--data');
  assert.deepEqual(flags('download').filter((f) => !['--output', '--select-files', '--sequential', '--seed'].includes(f)), net);
  assert.deepEqual(flags('stream').filter((f) => !['--output', '--file', '--http-port', '--http-host', '--window', '--player'].includes(f)), net);
  for (const f of ['--port', '--listen', '--peer', '--tracker', '--encryption', '--transport', '--no-dht', '--dht-bootstrap', '--lsd-interface', '--json', '--progress-interval']) {
    assert.ok(net.includes(f), f);
  }
  // The daemon takes the network options, not the per-torrent ones.
  const daemon = flags('daemon');
  for (const f of ['--port', '--listen', '--encryption', '--no-dht', '--no-lsd', '--no-port-forwarding', '--max-download-rate', '--verbose', '--rpc-port', '--web-ui']) {
    assert.ok(daemon.includes(f), f);
  }
  for (const f of ['--peer', '--tracker', '--json', '--progress-interval', '--seed-ratio']) assert.ok(!daemon.includes(f), f);
});

test('run: usage errors give 2, --help gives 0, an invalid option value names it', async () => {
  let err = '';
  const quiet = (p: ReturnType<typeof program>): void => void p.configureOutput({ writeOut: () => undefined, writeErr: (s) => (err += s) });
  // run() builds its own program; check the same paths through program() with output captured.
  for (const [argv, code] of [
    [['download', 'x', '--port', '99999'], EXIT.USAGE],
    [['frob'], EXIT.USAGE],
    [['--help'], EXIT.OK],
  ] as const) {
    const p = program(() => undefined);
    quiet(p);
    const got = await p.parseAsync(['node', 'tk', ...argv]).then(
      () => EXIT.OK as number,
      (e: unknown) => exitCodeFor(e, () => undefined),
    );
    assert.equal(got, code, argv.join(' '));
  }
  assert.match(err, /option '--port <n>' argument '99999' is invalid\. expected a port number 0-65535/);
  // A command's exit code comes back from run().
  assert.equal(await run(['node', 'tk', 'info', 'magnet:?xt=urn:btih:bad'], (s) => (err += s)), EXIT.BAD_TORRENT);
  assert.match(err, /torrentkit: invalid magnet link: /);
});
