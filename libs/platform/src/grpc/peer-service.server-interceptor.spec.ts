import { dnsNamesOf } from './peer-service.server-interceptor';

describe('dnsNamesOf', () => {
  it('reads the DNS names of a subjectAltName as Node prints it, and nothing else', () => {
    expect(
      dnsNamesOf('DNS:orders, DNS:orders.s2s.svc, IP Address:10.0.0.5, URI:spiffe://x/users'),
    ).toEqual(['orders', 'orders.s2s.svc']);
    expect(dnsNamesOf(undefined)).toEqual([]);
    expect(dnsNamesOf('')).toEqual([]);
  });

  it('does not read a service name out of a crafted name that contains one', () => {
    // How Node 20 and 26 print a certificate whose single DNS name is `x, DNS:users`: quoted,
    // the comma escaped (CVE-2021-44532).
    expect(dnsNamesOf('DNS:"x\\u002c DNS:users"')).not.toContain('users');
    expect(dnsNamesOf('DNS:"x, DNS:users"')).not.toContain('users');
  });
});
