/** The shared UDP socket (UDP trackers, uTP, the DHT) and uTP on it. */
import { BtError } from '../core/index.js';
import type { ListenManager } from '../peer/index.js';
import { UtpTransport } from '../transport/index.js';
import { parseHostPort } from '../util/index.js';
import type { Deps, EngineUdp } from './deps.js';
import type { EngineSettings } from './settings.js';

/**
 * Bind the shared UDP socket: settings.udpEndpoints, or the TCP listen hosts on the TCP port `tcpPort`. When that
 * port is taken for UDP, any port does (for trackers); no socket at all is a warning and undefined.
 */
export async function openUdp(
  settings: EngineSettings,
  deps: Deps,
  tcpPort: number,
  warn: (msg: string) => void,
): Promise<EngineUdp | undefined> {
  const own = settings.udpEndpoints.length > 0;
  const eps = (own ? settings.udpEndpoints : settings.listenEndpoints).map((e) => {
    const ep = parseHostPort(e);
    return own ? ep : { host: ep.host, port: tcpPort || ep.port };
  });
  const udp = deps.createUdp();
  udp.onError = (e) => warn(`UDP socket: ${e.message}`);
  try {
    await udp.bind(eps);
  } catch (e) {
    try {
      await udp.bind(eps.map((ep) => ({ host: ep.host, port: 0 })));
    } catch {
      warn(`no UDP socket, UDP trackers disabled: ${(e as Error).message}`);
      return undefined;
    }
  }
  return udp;
}

/**
 * uTP on the shared UDP socket: dialed through the DualTransport, accepted through the ListenManager. Undefined
 * when uTP is off or there is no socket (an error when TCP is off as well).
 */
export async function startUtp(
  settings: EngineSettings,
  deps: Deps,
  udp: EngineUdp | undefined,
  listen: ListenManager,
): Promise<UtpTransport | undefined> {
  if (!settings.enableUtp || !udp) {
    if (!settings.enableTcp) throw new BtError('ERR_LISTEN', 'TCP is disabled and uTP has no UDP socket', { op: 'start' });
    return undefined;
  }
  const utp = new UtpTransport(udp, { clock: deps.clock, random: deps.random });
  const host = parseHostPort(settings.listenEndpoints[0] ?? '0.0.0.0:0').host;
  try {
    await listen.listenOn(utp, host, udp.port);
  } catch (e) {
    utp.close();
    throw e;
  }
  return utp;
}
