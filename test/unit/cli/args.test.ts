/** CLI option parsers (src/cli/args.ts): ports, numbers, rates with k/M/G suffixes, file lists. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { collect, parseFileList, parsePort, parsePositiveInt, parsePositiveNumber, parseRate } from '../../../src/cli/args.js';

const invalid = (f: () => unknown, message?: RegExp): void =>
  assert.throws(f, (e: unknown) => e instanceof InvalidArgumentError && (!message || message.test(e.message)));

test('collect appends without touching the previous list', () => {
  const a: string[] = [];
  const b = collect('x', a);
  assert.deepEqual(collect('y', b), ['x', 'y']);
  assert.deepEqual(a, []);
});

test('parsePort: 0..65535 integers only', () => {
  assert.equal(parsePort('0'), 0);
  assert.equal(parsePort('6881'), 6881);
  assert.equal(parsePort('65535'), 65535);
  for (const bad of ['65536', '-1', '1.5', 'abc', 'NaN']) invalid(() => parsePort(bad), /port number 0-65535/);
});

test('parsePositiveNumber and parsePositiveInt', () => {
  assert.equal(parsePositiveNumber('2'), 2);
  assert.equal(parsePositiveNumber('0.5'), 0.5);
  for (const bad of ['0', '-1', 'x', 'Infinity']) invalid(() => parsePositiveNumber(bad), /positive number/);
  assert.equal(parsePositiveInt('1000'), 1000);
  for (const bad of ['0', '1.5', '-3', 'x']) invalid(() => parsePositiveInt(bad), /positive integer/);
});

test('parseRate: bytes per second with binary k/M/G suffixes, optional B, iB and /s', () => {
  assert.equal(parseRate('0'), 0);
  assert.equal(parseRate('500000'), 500_000);
  assert.equal(parseRate('500k'), 500 * 1024);
  assert.equal(parseRate('500K'), 500 * 1024);
  assert.equal(parseRate('2M'), 2 * 1024 * 1024);
  assert.equal(parseRate('1.5M'), Math.round(1.5 * 1024 * 1024));
  assert.equal(parseRate('1G'), 1024 ** 3);
  assert.equal(parseRate(' 2 MiB/s '), 2 * 1024 * 1024);
  assert.equal(parseRate('100kB'), 100 * 1024);
  for (const bad of ['', 'fast', '-1', '2T', '1e3', '1,5M']) invalid(() => parseRate(bad), /bytes per second/);
  invalid(() => parseRate('9'.repeat(30)), /too large/);
});

test('parseFileList: numbers from 1 and ranges, to sorted unique 0-based indices', () => {
  assert.deepEqual(parseFileList('1'), [0]);
  assert.deepEqual(parseFileList('1,3-5'), [0, 2, 3, 4]);
  assert.deepEqual(parseFileList(' 5 , 2 - 3 ,2'), [1, 2, 4]);
  invalid(() => parseFileList('0'), /bad file range 0/);
  invalid(() => parseFileList('4-2'), /bad file range 4-2/);
  invalid(() => parseFileList('1-2000000'), /bad file range/);
  for (const bad of ['', 'a', '1,,2', '-3', '1-']) invalid(() => parseFileList(bad), /file numbers such as 1,3-5/);
});
