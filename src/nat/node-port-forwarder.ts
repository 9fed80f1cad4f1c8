/** A PortForwarder wired to Node: dgram sockets, node:http, /proc/net/route, NodeClock, NodeRandom. */
import { NodeClock, NodeRandom } from '../core/index.js';
import { nodeNatHttp } from './node-http.js';
import { procNetRouteGateway } from './node-route.js';
import { nodeNatUdp } from './node-udp.js';
import { PortForwarder } from './port-forwarder.js';
import type { PortForwarderOptions } from './port-forwarder.js';

export type NodePortForwarderOptions = Omit<PortForwarderOptions, 'clock' | 'random' | 'udp' | 'http' | 'gatewayLookup'> &
  Partial<Pick<PortForwarderOptions, 'clock' | 'random' | 'udp' | 'http' | 'gatewayLookup'>>;

export function createNodePortForwarder(opts: NodePortForwarderOptions = {}): PortForwarder {
  const clock = opts.clock ?? new NodeClock();
  return new PortForwarder({
    ...opts,
    clock,
    random: opts.random ?? new NodeRandom(),
    udp: opts.udp ?? nodeNatUdp,
    http: opts.http ?? nodeNatHttp(clock),
    gatewayLookup: opts.gatewayLookup ?? procNetRouteGateway(),
  });
}
