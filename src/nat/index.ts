/** Port forwarding (issue 8): UPnP IGD, NAT-PMP (RFC 6886) and PCP (RFC 6887) behind one PortForwarder. */
export { PortForwarder } from './port-forwarder.js';
export type {
  PortForwarderOptions,
  PortForwarderEvents,
  PortForwarderMethods,
  PortForwarderStatus,
  PortMapping,
  PortSet,
  MappingState,
} from './port-forwarder.js';
export { createNodePortForwarder } from './node-port-forwarder.js';
export type { NodePortForwarderOptions } from './node-port-forwarder.js';
export { classifyExternalAddress, reportExternalAddress, parseIpv4 } from './classify.js';
export type { AddressClass, ExternalAddressReport } from './classify.js';
export { NatError, isNatError } from './types.js';
export type {
  NatProtocol,
  NatMethod,
  NatErrorDetail,
  NatUdpSocket,
  NatUdpFactory,
  NatUdpOpenOptions,
  NatHttp,
  NatHttpRequest,
  NatHttpResponse,
  GatewayLookup,
  UdpRemote,
} from './types.js';
export { nodeNatUdp } from './node-udp.js';
export { nodeNatHttp } from './node-http.js';
export { procNetRouteGateway } from './node-route.js';
export * as upnp from './upnp/index.js';
export * as natpmp from './natpmp/index.js';
