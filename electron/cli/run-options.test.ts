// The CLI's parsing of Docker's env files, labels, network aliases and ps filters, and ps's PORTS cell.
import { describe, expect, it } from 'vitest';
import type { ContainerSummary } from '../../shared/containers.js';
import { parseEnvFile, parseLabels } from '../../shared/run-options.js';
import { formatPortMappings } from '../../shared/units.js';
import { matchesPsFilters, parsePsFilters, runOptionsSpec } from './run-options.js';

const container = (name: string, state: ContainerSummary['state'], labels?: Record<string, string>): ContainerSummary => ({
  id: `${name.charCodeAt(0).toString(16)}${'0'.repeat(62)}`,
  name,
  image: 'busybox',
  imageId: `sha256:${'a'.repeat(64)}`,
  command: ['sh'],
  state,
  pid: null,
  exitCode: null,
  oomKilled: false,
  error: null,
  createdAt: '2026-01-01T00:00:00Z',
  startedAt: null,
  finishedAt: null,
  ...(labels ? { labels } : {}),
});

describe('run options on the command line', () => {
  it("reads Docker's env-file format: values as written, bare names from this environment, comments and blanks skipped", () => {
    const text = '\uFEFF# a comment\nA=1\n  B=spaced \nQUOTED="kept"\n\nEMPTY=\nFROM_ENV\nMISSING\r\nEQ=a=b\n';
    expect(parseEnvFile(text, 'app.env', { FROM_ENV: 'here' })).toEqual([
      'A=1',
      'B=spaced ',
      'QUOTED="kept"',
      'EMPTY=',
      'FROM_ENV=here',
      'EQ=a=b',
    ]);
    expect(() => parseEnvFile('OK=1\n=nokey\n', 'app.env', {})).toThrow('--env-file app.env:2: no variable name');
    expect(() => parseEnvFile('MY VAR\n', 'app.env', {})).toThrow('app.env:1: variable "MY VAR" contains whitespace');
    // As Docker: the name ends at "=", so a space before it is part of the name.
    expect(() => parseEnvFile('B = x\n', 'app.env', {})).toThrow('variable "B " contains whitespace');
  });

  it('labels: KEY=VALUE, a bare KEY is empty, the last of a key wins', () => {
    expect(parseLabels(['a=1', 'b', 'c=x=y', 'a=2'])).toEqual({ a: '2', b: '', c: 'x=y' });
  });

  it('--network-alias: on the first --network; refused without a user network, as Docker refuses it', () => {
    expect(runOptionsSpec({ network: ['web', 'back'], networkAlias: ['db', 'cache'] }).spec.networkAliases).toEqual({
      web: ['db', 'cache'],
    });
    expect(runOptionsSpec({ network: ['web'] }).spec.networkAliases).toBeUndefined();
    expect(() => runOptionsSpec({ networkAlias: ['db'] })).toThrow('--network-alias: aliases are for user networks only');
    expect(() => runOptionsSpec({ network: ['none'], networkAlias: ['db'] })).toThrow('name one with --network');
  });

  it("ps --filter: one key's values are alternatives, labels must all hold, unknown keys and states are refused", () => {
    const list = [
      container('web', 'running', { tier: 'web', team: '' }),
      container('db', 'exited', { tier: 'db' }),
      container('misc', 'running'),
    ];
    const names = (...filters: string[]) => list.filter((c) => matchesPsFilters(c, parsePsFilters(filters))).map((c) => c.name);
    expect(names('label=tier')).toEqual(['web', 'db']);
    expect(names('label=tier=db')).toEqual(['db']);
    expect(names('label=tier', 'label=team')).toEqual(['web']);
    expect(names('status=running', 'status=exited')).toEqual(['web', 'db', 'misc']);
    expect(names('status=running', 'name=e')).toEqual(['web']);
    expect(names(`id=${list[1]?.id.slice(0, 4) ?? ''}`)).toEqual(['db']);
    expect(names()).toEqual(['web', 'db', 'misc']);
    expect(() => parsePsFilters(['colour=red'])).toThrow('--filter: "colour=red" is not one of label=…');
    expect(() => parsePsFilters(['status=sleeping'])).toThrow('--filter status: "sleeping"');
  });

  it("ps's PORTS cell is Docker's", () => {
    expect(
      formatPortMappings([
        { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' },
        { hostIp: '::', hostPort: 8443, containerPort: 443, protocol: 'tcp' },
      ]),
    ).toBe('0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp, [::]:8443->443/tcp');
    expect(formatPortMappings(undefined)).toBe('');
  });
});
