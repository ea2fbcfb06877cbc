import type { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { addressSignature, watchNetworkChanges } from './network-watch.js';

type Interfaces = ReturnType<typeof networkInterfaces>;
const address = (addr: string, internal = false): NonNullable<Interfaces[string]>[number] => ({
  address: addr,
  netmask: '255.255.255.0',
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: `${addr}/24`,
});

describe('network watch', () => {
  it('sees addresses come and go, not loopback and not the order the OS lists them in', () => {
    const wifi: Interfaces = { lo: [address('127.0.0.1', true)], wlan0: [address('192.168.1.20')] };
    expect(addressSignature(wifi)).toBe('wlan0 192.168.1.20/24');
    expect(addressSignature({ wlan0: wifi.wlan0, lo: [address('127.0.0.2', true)] })).toBe(addressSignature(wifi));
    expect(addressSignature({ ...wifi, tun0: [address('10.8.0.2')] })).not.toBe(addressSignature(wifi));
  });

  it('calls back once per change (Wi-Fi to Ethernet), never while nothing changes', async () => {
    let now: Interfaces = { wlan0: [address('192.168.1.20')] };
    let changes = 0;
    let reads = 0;
    const stop = watchNetworkChanges(() => changes++, {
      intervalMs: 5,
      interfaces: () => {
        reads++;
        return now;
      },
    });
    try {
      await expect.poll(() => reads, { timeout: 2000 }).toBeGreaterThan(5);
      expect(changes).toBe(0);
      now = { eth0: [address('10.0.0.7')] };
      await expect.poll(() => changes, { timeout: 2000 }).toBe(1);
      const seen = reads;
      await expect.poll(() => reads, { timeout: 2000 }).toBeGreaterThan(seen + 5);
      expect(changes).toBe(1);
    } finally {
      stop();
    }
  });
});
