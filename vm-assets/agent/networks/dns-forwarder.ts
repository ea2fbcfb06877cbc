// A DNS forwarder on a bridge's gateway address, for machines whose only name server is on their
// loopback (a dnsmasq, unbound or Pi-hole on 127.0.0.1, systemd-resolved without its upstream
// list): a container has a loopback of its own and cannot reach it, so its resolv.conf names the
// gateway and this relays each query to the machine's server — what Docker Desktop users get from
// its VM's resolver: the desktop's own DNS, VPN and company names included. Plain relay: UDP one
// datagram each way (a socket per query, so replies cannot be confused), TCP a piped connection.
import { createSocket, type Socket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { cidrContains, isIpv4, parseCidrLoose, parseIpv4 } from '../../../shared/networks.js';
import type { Logger } from '../daemon/logger.js';

/** How long a query waits for the machine's server before it is dropped (the client retries). */
const QUERY_TIMEOUT_MS = 5000;
export const DNS_PORT = 53;

export class DnsForwarder {
  private readonly listeners = new Map<string, { udp: Socket; tcp: Server }>();
  private readonly pending = new Map<string, Promise<void>>();

  /** upstream: the machine's loopback server to relay to, read at each query (undefined: none now, queries dropped). */
  constructor(
    private readonly upstream: () => string | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * Listens on address:53 (UDP and TCP) unless it already does; the address must be on this
   * machine. Only clients in `subnet` (the bridge's, `10.77.0.0/16`) are answered: the gateway
   * address is the machine's, and the machine must not become a resolver for whoever can route to it.
   */
  listen(address: string, subnet: string): Promise<void> {
    if (this.listeners.has(address)) return Promise.resolve();
    const started = this.pending.get(address) ?? this.start(address, subnet).finally(() => this.pending.delete(address));
    this.pending.set(address, started);
    return started;
  }

  /** Whether the machine's name server is one only a forwarder lets containers reach. */
  wanted(): boolean {
    return this.upstream() !== undefined;
  }

  async close(): Promise<void> {
    for (const { udp, tcp } of this.listeners.values()) {
      udp.close();
      tcp.close();
    }
    this.listeners.clear();
  }

  private async start(address: string, subnet: string): Promise<void> {
    const cidr = parseCidrLoose(subnet);
    const member = (ip: string | undefined) => ip !== undefined && isIpv4(ip) && cidrContains(cidr, parseIpv4(ip));
    const udp = createSocket('udp4');
    udp.on('message', (query, from) => {
      if (member(from.address)) this.relayUdp(udp, query, from.address, from.port);
    });
    udp.on('error', (error) => this.log.error(`DNS forwarder on ${address}: UDP`, error));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(DNS_PORT, address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const tcp = createServer((client) => {
      const server = this.upstream();
      if (server === undefined || !member(client.remoteAddress)) {
        client.destroy();
        return;
      }
      const upstream = connect(DNS_PORT, server);
      // Either side's end or error ends both; the client asks again if it must.
      for (const socket of [client, upstream]) socket.on('error', () => [client, upstream].forEach((s) => s.destroy()));
      client.pipe(upstream).pipe(client);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(DNS_PORT, address, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      udp.close();
      throw error;
    }
    this.listeners.set(address, { udp, tcp });
  }

  private relayUdp(listener: Socket, query: Buffer, clientAddress: string, clientPort: number): void {
    const server = this.upstream();
    if (server === undefined) return;
    const relay = createSocket('udp4');
    const done = () => {
      clearTimeout(timer);
      relay.close();
    };
    const timer = setTimeout(done, QUERY_TIMEOUT_MS);
    relay.on('error', done);
    relay.on('message', (reply, from) => {
      // Only the server asked answers this query.
      if (from.address !== server || from.port !== DNS_PORT) return;
      listener.send(reply, clientPort, clientAddress);
      done();
    });
    relay.send(query, DNS_PORT, server);
  }
}
