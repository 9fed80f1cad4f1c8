/**
 * UPnP control (SOAP 1.1 over HTTP, UPnP Device Architecture section 3): request envelopes for the
 * WAN*Connection actions and the parser for responses and UPnPError faults. Pure.
 */
import { NatError } from '../types.js';
import type { NatProtocol } from '../types.js';
import { parseXml } from './description.js';

/** UPnP error codes a client meets when mapping ports (IGD WANIPConnection:1/2 specifications). */
export const UPNP_ERRORS: Readonly<Record<number, string>> = {
  401: 'InvalidAction',
  402: 'InvalidArgs',
  501: 'ActionFailed',
  606: 'ActionNotAuthorized',
  714: 'NoSuchEntryInArray',
  715: 'WildCardNotPermittedInSrcIP',
  716: 'WildCardNotPermittedInExtPort',
  718: 'ConflictInMappingEntry',
  724: 'SamePortValuesRequired',
  725: 'OnlyPermanentLeasesSupported',
  726: 'RemoteHostOnlySupportsWildcard',
  727: 'ExternalPortOnlySupportsWildcard',
  728: 'NoPortMapsAvailable',
  729: 'ConflictWithOtherMechanisms',
  732: 'WildCardNotPermittedInIntPort',
};

export const UPNP_CONFLICT = 718;
export const UPNP_ONLY_PERMANENT = 725;
export const UPNP_NO_SUCH_ENTRY = 714;

export type SoapArgs = readonly (readonly [string, string | number])[];

export interface SoapRequest {
  /** Value of the SOAPAction header, quotes included. */
  soapAction: string;
  body: string;
  headers: Record<string, string>;
}

export function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

export function buildSoapRequest(serviceType: string, action: string, args: SoapArgs): SoapRequest {
  const inner = args.map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`).join('');
  const body =
    '<?xml version="1.0"?>\r\n' +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
    `<s:Body><u:${action} xmlns:u="${xmlEscape(serviceType)}">${inner}</u:${action}></s:Body></s:Envelope>\r\n`;
  const soapAction = `"${serviceType}#${action}"`;
  return { soapAction, body, headers: { 'content-type': 'text/xml; charset="utf-8"', soapaction: soapAction } };
}

const PROTO: Record<NatProtocol, string> = { tcp: 'TCP', udp: 'UDP' };

export interface AddPortMappingArgs {
  externalPort: number;
  protocol: NatProtocol;
  internalPort: number;
  internalClient: string;
  description: string;
  leaseSeconds: number;
}

/** Arguments in the order the specification lists them (some routers insist on it). */
export function addPortMappingArgs(a: AddPortMappingArgs): SoapArgs {
  return [
    ['NewRemoteHost', ''],
    ['NewExternalPort', a.externalPort],
    ['NewProtocol', PROTO[a.protocol]],
    ['NewInternalPort', a.internalPort],
    ['NewInternalClient', a.internalClient],
    ['NewEnabled', 1],
    ['NewPortMappingDescription', a.description],
    ['NewLeaseDuration', a.leaseSeconds],
  ];
}

export function deletePortMappingArgs(externalPort: number, protocol: NatProtocol): SoapArgs {
  return [
    ['NewRemoteHost', ''],
    ['NewExternalPort', externalPort],
    ['NewProtocol', PROTO[protocol]],
  ];
}

export const getSpecificPortMappingEntryArgs = deletePortMappingArgs;

export interface SoapFault {
  faultCode: string | undefined;
  faultString: string | undefined;
  upnpCode: number | undefined;
  upnpDescription: string | undefined;
}

type Node = Record<string, unknown>;

function child(n: unknown, name: string): unknown {
  return typeof n === 'object' && n !== null ? (n as Node)[name] : undefined;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

/** The SOAP fault in a response body, or undefined when there is none. Throws NatError on malformed XML. */
export function parseSoapFault(xml: string): SoapFault | undefined {
  const body = child(child(parseXml(xml, 'SOAP response'), 'Envelope'), 'Body');
  const fault = child(body, 'Fault');
  if (fault === undefined) return undefined;
  const err = child(child(fault, 'detail'), 'UPnPError');
  const code = Number(str(child(err, 'errorCode')));
  return {
    faultCode: str(child(fault, 'faultcode')),
    faultString: str(child(fault, 'faultstring')),
    upnpCode: Number.isInteger(code) ? code : undefined,
    upnpDescription: str(child(err, 'errorDescription')),
  };
}

/** A NatError describing a SOAP fault (detail.upnpCode set when the fault carries one). */
export function soapFaultError(action: string, fault: SoapFault, httpStatus?: number): NatError {
  const code = fault.upnpCode;
  const name = fault.upnpDescription || (code !== undefined ? UPNP_ERRORS[code] : undefined) || fault.faultString || 'fault';
  return new NatError(`UPnP ${action} failed${code !== undefined ? ` with ${code}` : ''}: ${name}`, {
    op: action === 'DeletePortMapping' ? 'unmap' : action === 'AddPortMapping' ? 'map' : 'message',
    detail: { method: 'upnp', upnpCode: code, httpStatus },
  });
}

/**
 * Parse the response to `action`: the output arguments as strings (empty elements as ''). A fault throws
 * a NatError with detail.upnpCode; a body without `<actionResponse>` throws too.
 */
export function parseSoapResponse(xml: string, action: string, httpStatus?: number): Record<string, string> {
  const doc = parseXml(xml, 'SOAP response');
  const body = child(child(doc, 'Envelope'), 'Body');
  if (body === undefined) throw new NatError(`UPnP ${action}: response is not a SOAP envelope`, { op: 'parse', detail: { method: 'upnp', httpStatus } });
  const fault = parseSoapFault(xml);
  if (fault) throw soapFaultError(action, fault, httpStatus);
  const resp = child(body, `${action}Response`);
  if (resp === undefined) throw new NatError(`UPnP ${action}: no ${action}Response in the reply`, { op: 'parse', detail: { method: 'upnp', httpStatus } });
  const out: Record<string, string> = {};
  if (typeof resp === 'object' && resp !== null) {
    for (const [k, v] of Object.entries(resp as Node)) {
      const s = str(v);
      out[k] = s ?? '';
    }
  }
  return out;
}
