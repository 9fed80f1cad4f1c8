/** UPnP IGD (issue 8): SSDP responses, root descriptions (IGD v1 and v2), SOAP envelopes and faults. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NatError } from '../../../src/nat/index.js';
import {
  IGD_SEARCH_TARGETS,
  addPortMappingArgs,
  buildMSearch,
  buildSoapRequest,
  isIgdSearchTarget,
  parseDeviceDescription,
  parseSoapFault,
  parseSoapResponse,
  parseSsdpResponse,
} from '../../../src/nat/upnp/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('M-SEARCH request names the target, MX and the multicast host', () => {
  const text = new TextDecoder().decode(buildMSearch('urn:schemas-upnp-org:service:WANIPConnection:1', 2));
  assert.match(text, /^M-SEARCH \* HTTP\/1\.1\r\n/);
  assert.match(text, /\r\nHOST: 239\.255\.255\.250:1900\r\n/);
  assert.match(text, /\r\nMAN: "ssdp:discover"\r\n/);
  assert.match(text, /\r\nMX: 2\r\n/);
  assert.match(text, /\r\nST: urn:schemas-upnp-org:service:WANIPConnection:1\r\n/);
  assert.ok(text.endsWith('\r\n\r\n'));
  assert.match(new TextDecoder().decode(buildMSearch('x', 99)), /MX: 5\r\n/);
  assert.deepEqual(
    IGD_SEARCH_TARGETS.filter((s) => s.includes('service')),
    ['urn:schemas-upnp-org:service:WANIPConnection:1', 'urn:schemas-upnp-org:service:WANIPConnection:2', 'urn:schemas-upnp-org:service:WANPPPConnection:1'],
  );
});

test('SSDP response from miniupnpd is parsed (headers case-insensitive)', () => {
  const r = parseSsdpResponse(
    enc(
      'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n' +
        'USN: uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\n' +
        'SERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\nlocation: http://192.168.200.1:5000/rootDesc.xml\r\nOPT: "http://schemas.upnp.org/upnp/1/0/"; ns=01\r\n\r\n',
    ),
  );
  assert.ok(r);
  assert.equal(r.st, 'urn:schemas-upnp-org:device:InternetGatewayDevice:1');
  assert.equal(r.location, 'http://192.168.200.1:5000/rootDesc.xml');
  assert.equal(r.server, 'Debian/12 UPnP/1.1 MiniUPnPd/2.3.1');
  assert.match(r.usn!, /^uuid:3d3cec3a/);
  assert.equal(r.headers['ext'], '');
});

test('SSDP: NOTIFY, M-SEARCH echoes, errors, missing headers, non-http LOCATION and oversized packets are ignored', () => {
  const ok = 'ST: urn:schemas-upnp-org:service:WANIPConnection:1\r\nLOCATION: http://10.0.0.1:1900/d.xml\r\n\r\n';
  assert.ok(parseSsdpResponse(enc(`HTTP/1.1 200 OK\r\n${ok}`)));
  assert.equal(parseSsdpResponse(enc(`NOTIFY * HTTP/1.1\r\n${ok}`)), undefined);
  assert.equal(parseSsdpResponse(enc(`M-SEARCH * HTTP/1.1\r\n${ok}`)), undefined);
  assert.equal(parseSsdpResponse(enc(`HTTP/1.1 404 Not Found\r\n${ok}`)), undefined);
  assert.equal(parseSsdpResponse(enc('HTTP/1.1 200 OK\r\nST: x\r\n\r\n')), undefined);
  assert.equal(parseSsdpResponse(enc('HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: file:///etc/passwd\r\n\r\n')), undefined);
  assert.equal(parseSsdpResponse(enc('HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: not a url\r\n\r\n')), undefined);
  assert.equal(parseSsdpResponse(enc(`HTTP/1.1 200 OK\r\n${ok}${'X: y\r\n'.repeat(2000)}`)), undefined);
  assert.equal(parseSsdpResponse(new Uint8Array(0)), undefined);
  assert.ok(isIgdSearchTarget('urn:schemas-upnp-org:device:InternetGatewayDevice:2'));
  assert.ok(isIgdSearchTarget('urn:schemas-upnp-org:service:WANPPPConnection:1'));
  assert.ok(!isIgdSearchTarget('urn:schemas-upnp-org:device:MediaServer:1'));
  assert.ok(!isIgdSearchTarget('upnp:rootdevice'));
});

/** IGD v2 as miniupnpd 2.3 serves it (abridged): WANIPConnection:2 nested two levels down, relative URLs. */
const IGD_V2 = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0" configId="1337">
<specVersion><major>1</major><minor>1</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType>
<friendlyName>bt-rigs miniupnpd</friendlyName><UDN>uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b</UDN>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>
<serviceId>urn:upnp-org:serviceId:L3Forwarding1</serviceId><SCPDURL>/L3F.xml</SCPDURL><controlURL>/ctl/L3F</controlURL>
<eventSubURL>/evt/L3F</eventSubURL></service></serviceList>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType><friendlyName>WANDevice</friendlyName>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANCommonIFC1</serviceId><SCPDURL>/WANCfg.xml</SCPDURL><controlURL>/ctl/CmnIfCfg</controlURL>
<eventSubURL>/evt/CmnIfCfg</eventSubURL></service></serviceList>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId><SCPDURL>/WANIPCn.xml</SCPDURL><controlURL>/ctl/IPConn</controlURL>
<eventSubURL>/evt/IPConn</eventSubURL></service>
<service><serviceType>urn:schemas-upnp-org:service:WANIPv6FirewallControl:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPv6Firewall1</serviceId><SCPDURL>/WANIP6FC.xml</SCPDURL><controlURL>/ctl/IP6FCtl</controlURL>
<eventSubURL>/evt/IP6FCtl</eventSubURL></service></serviceList></device></deviceList></device></deviceList>
<presentationURL>http://192.168.200.1/</presentationURL></device></root>`;

/** An IGD v1 router with URLBase, a PPP connection and an IP connection, namespace prefixes on elements. */
const IGD_V1 = `<?xml version="1.0" encoding="utf-8"?>
<u:root xmlns:u="urn:schemas-upnp-org:device-1-0"><u:specVersion><u:major>1</u:major><u:minor>0</u:minor></u:specVersion>
<u:URLBase>http://192.168.1.1:49152/</u:URLBase>
<u:device><u:deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</u:deviceType><u:friendlyName>Old &amp; Trusty</u:friendlyName>
<u:deviceList><u:device><u:deviceType>urn:schemas-upnp-org:device:WANDevice:1</u:deviceType>
<u:deviceList><u:device><u:deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</u:deviceType>
<u:serviceList>
<u:service><u:serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</u:serviceType><u:controlURL>upnp/control/WANPPPConn1</u:controlURL></u:service>
<u:service><u:serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</u:serviceType><u:controlURL>upnp/control/WANIPConn1</u:controlURL></u:service>
</u:serviceList></u:device></u:deviceList></u:device></u:deviceList></u:device></u:root>`;

test('IGD v2 description: WANIPConnection:2 found in a nested device, control URL resolved against LOCATION', () => {
  const d = parseDeviceDescription(IGD_V2, 'http://192.168.200.1:5000/rootDesc.xml');
  assert.equal(d.deviceType, 'urn:schemas-upnp-org:device:InternetGatewayDevice:2');
  assert.equal(d.friendlyName, 'bt-rigs miniupnpd');
  assert.deepEqual(d.services, [{ serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:2', controlUrl: 'http://192.168.200.1:5000/ctl/IPConn', version: 2 }]);
});

test('IGD v1 description: URLBase wins over LOCATION; WANIPConnection preferred over WANPPPConnection', () => {
  const d = parseDeviceDescription(IGD_V1, 'http://192.168.1.1:5431/desc.xml');
  assert.equal(d.friendlyName, 'Old & Trusty');
  assert.deepEqual(
    d.services.map((s) => [s.serviceType.split(':').slice(-2).join(':'), s.controlUrl]),
    [
      ['WANIPConnection:1', 'http://192.168.1.1:49152/upnp/control/WANIPConn1'],
      ['WANPPPConnection:1', 'http://192.168.1.1:49152/upnp/control/WANPPPConn1'],
    ],
  );
});

test('device description: no WAN service, no root, malformed XML and DOCTYPEs', () => {
  const noWan = IGD_V2.replace(/WANIPConnection:2/g, 'Something:1');
  assert.deepEqual(parseDeviceDescription(noWan, 'http://h/').services, []);
  assert.throws(() => parseDeviceDescription('<foo/>', 'http://h/'), (e: unknown) => e instanceof NatError && e.code === 'ERR_NAT');
  assert.throws(() => parseDeviceDescription('<root><device>', 'http://h/'), NatError);
  assert.throws(
    () => parseDeviceDescription('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><root><device/></root>', 'http://h/'),
    /DOCTYPE/,
  );
  // a control URL that resolves to another scheme is skipped
  const ftp = IGD_V2.replace('<controlURL>/ctl/IPConn</controlURL>', '<controlURL>ftp://x/ctl</controlURL>');
  assert.deepEqual(parseDeviceDescription(ftp, 'http://h/').services, []);
});

test('SOAP request: envelope, SOAPAction header, AddPortMapping arguments in specification order, escaping', () => {
  const st = 'urn:schemas-upnp-org:service:WANIPConnection:1';
  const r = buildSoapRequest(
    st,
    'AddPortMapping',
    addPortMappingArgs({ externalPort: 6881, protocol: 'tcp', internalPort: 6882, internalClient: '192.168.1.5', description: 'tk <&>', leaseSeconds: 3600 }),
  );
  assert.equal(r.soapAction, `"${st}#AddPortMapping"`);
  assert.equal(r.headers['soapaction'], r.soapAction);
  assert.match(r.headers['content-type']!, /^text\/xml/);
  assert.match(r.body, /<s:Envelope xmlns:s="http:\/\/schemas\.xmlsoap\.org\/soap\/envelope\/"/);
  assert.match(r.body, new RegExp(`<u:AddPortMapping xmlns:u="${st}">`));
  const order = [...r.body.matchAll(/<(New\w+)>/g)].map((m) => m[1]);
  assert.deepEqual(order, [
    'NewRemoteHost',
    'NewExternalPort',
    'NewProtocol',
    'NewInternalPort',
    'NewInternalClient',
    'NewEnabled',
    'NewPortMappingDescription',
    'NewLeaseDuration',
  ]);
  assert.match(r.body, /<NewProtocol>TCP<\/NewProtocol>/);
  assert.match(r.body, /<NewPortMappingDescription>tk &lt;&amp;&gt;<\/NewPortMappingDescription>/);
  assert.match(r.body, /<NewLeaseDuration>3600<\/NewLeaseDuration>/);
});

test('SOAP response: output arguments', () => {
  const xml =
    '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
    '<s:Body><u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:2">' +
    '<NewExternalIPAddress>10.200.0.1</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>';
  assert.deepEqual(parseSoapResponse(xml, 'GetExternalIPAddress'), { NewExternalIPAddress: '10.200.0.1' });
  const empty = xml.replace('<NewExternalIPAddress>10.200.0.1</NewExternalIPAddress>', '<NewExternalIPAddress></NewExternalIPAddress>');
  assert.deepEqual(parseSoapResponse(empty, 'GetExternalIPAddress'), { NewExternalIPAddress: '' });
  const add = xml.replace(/GetExternalIPAddressResponse/g, 'AddPortMappingResponse').replace(/<NewExternalIPAddress>.*<\/NewExternalIPAddress>/, '');
  assert.deepEqual(parseSoapResponse(add, 'AddPortMapping'), {});
  assert.throws(() => parseSoapResponse(xml, 'AddPortMapping'), /no AddPortMappingResponse/);
  assert.throws(() => parseSoapResponse('<html>nope</html>', 'AddPortMapping'), NatError);
});

function fault(code: number, desc: string): string {
  return (
    '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
    '<s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>' +
    `<UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>${code}</errorCode><errorDescription>${desc}</errorDescription></UPnPError>` +
    '</detail></s:Fault></s:Body></s:Envelope>\r\n'
  );
}

test('SOAP faults become NatError with the UPnP error code (718 conflict, 725 permanent only, 606)', () => {
  assert.deepEqual(parseSoapFault(fault(718, 'ConflictInMappingEntry')), {
    faultCode: 's:Client',
    faultString: 'UPnPError',
    upnpCode: 718,
    upnpDescription: 'ConflictInMappingEntry',
  });
  for (const [code, desc] of [
    [718, 'ConflictInMappingEntry'],
    [725, 'OnlyPermanentLeasesSupported'],
    [606, 'Action not authorized'],
  ] as const) {
    assert.throws(
      () => parseSoapResponse(fault(code, desc), 'AddPortMapping', 500),
      (e: unknown) =>
        e instanceof NatError &&
        e.code === 'ERR_NAT' &&
        e.op === 'map' &&
        e.detail.upnpCode === code &&
        e.detail.httpStatus === 500 &&
        e.detail.method === 'upnp' &&
        e.message.includes(desc),
    );
  }
  // a fault without UPnPError detail
  const bare = '<s:Envelope xmlns:s="x"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>Oops</faultstring></s:Fault></s:Body></s:Envelope>';
  assert.throws(() => parseSoapResponse(bare, 'DeletePortMapping'), (e: unknown) => e instanceof NatError && e.detail.upnpCode === undefined && e.op === 'unmap' && /Oops/.test(e.message));
  assert.equal(parseSoapFault('<s:Envelope xmlns:s="x"><s:Body><u:XResponse/></s:Body></s:Envelope>'), undefined);
});
