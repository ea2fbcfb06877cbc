import { describe, expect, it } from 'vitest';
import { chooseMachine } from './machine-choice.js';

const local = { name: 'local', provider: 'local' };
const vm = { name: 'vm', provider: 'vagrant' };
const ec2 = { name: 'ec2', provider: 'ssh' };

describe('chooseMachine', () => {
  it('takes the flag, then ONGGI_MACHINE, then the machine used last, then this computer, then the only one', () => {
    const machines = [local, vm, ec2];
    expect(chooseMachine({ flag: 'vm', env: 'ec2', lastUsed: 'local', machines })).toEqual({ machine: 'vm', source: 'flag' });
    expect(chooseMachine({ env: 'ec2', lastUsed: 'vm', machines })).toEqual({ machine: 'ec2', source: 'env' });
    expect(chooseMachine({ lastUsed: 'vm', machines })).toEqual({ machine: 'vm', source: 'lastUsed' });
    expect(chooseMachine({ machines })).toEqual({ machine: 'local', source: 'local' });
    expect(chooseMachine({ machines: [ec2] })).toEqual({ machine: 'ec2', source: 'only' });
  });

  it('forgets a machine used last that was removed since', () => {
    expect(chooseMachine({ lastUsed: 'gone', machines: [local, vm] })).toEqual({ machine: 'local', source: 'local' });
    expect(chooseMachine({ lastUsed: 'gone', machines: [vm] })).toEqual({ machine: 'vm', source: 'only' });
    expect(chooseMachine({ lastUsed: 'gone', machines: [vm, ec2] })).toEqual({ machine: undefined, reason: 'several' });
  });

  it('keeps a name given by flag or environment even when no machine has it (the host then says which exist)', () => {
    expect(chooseMachine({ flag: 'faraway', machines: [vm] })).toEqual({ machine: 'faraway', source: 'flag' });
    expect(chooseMachine({ env: 'faraway', machines: [] })).toEqual({ machine: 'faraway', source: 'env' });
  });

  it('has no answer without machines, or with several and nothing remembered; empty strings count as not given', () => {
    expect(chooseMachine({ flag: '', env: '', machines: [] })).toEqual({ machine: undefined, reason: 'no_machines' });
    expect(chooseMachine({ machines: [vm, ec2] })).toEqual({ machine: undefined, reason: 'several' });
  });
});
