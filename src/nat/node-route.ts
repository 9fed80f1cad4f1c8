/** The default IPv4 gateway from /proc/net/route (Linux), as natpmpc finds it. */
import { readFile } from 'node:fs/promises';
import { parseProcNetRoute } from './natpmp/route.js';
import type { GatewayLookup } from './types.js';

export function procNetRouteGateway(path = '/proc/net/route'): GatewayLookup {
  return async () => {
    try {
      return parseProcNetRoute(await readFile(path, 'utf8'));
    } catch {
      return undefined;
    }
  };
}
