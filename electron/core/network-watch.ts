// Notices when this computer's network changes (Wi-Fi to Ethernet, a VPN comes up, an address
// renewed) by comparing its interfaces' addresses now and then: Node has no event for it, and a
// look at the interfaces costs microseconds. Links to remote machines are then checked at once
// (Machine.verifyLink) instead of after the SSH keepalive gives up.
import { networkInterfaces } from 'node:os';

export const NETWORK_CHECK_MS = 3000;

/** The addresses this computer has on the network, as one comparable string (loopback left out). */
export function addressSignature(interfaces: ReturnType<typeof networkInterfaces>): string {
  return Object.entries(interfaces)
    .flatMap(([name, addresses]) =>
      (addresses ?? []).filter((address) => !address.internal).map((address) => `${name} ${address.cidr ?? address.address}`),
    )
    .sort()
    .join('\n');
}

export function watchNetworkChanges(
  onChange: () => void,
  options: { intervalMs?: number; interfaces?: () => ReturnType<typeof networkInterfaces> } = {},
): () => void {
  const read = options.interfaces ?? networkInterfaces;
  let last = addressSignature(read());
  const timer = setInterval(() => {
    const now = addressSignature(read());
    if (now === last) return;
    last = now;
    onChange();
  }, options.intervalMs ?? NETWORK_CHECK_MS);
  // Watching must not keep a process alive that is otherwise done.
  timer.unref();
  return () => clearInterval(timer);
}
