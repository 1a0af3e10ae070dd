import { dnsNamesOf } from './peer-service.server-interceptor';

describe('dnsNamesOf', () => {
  it('reads the DNS names of a subjectAltName as Node prints it, and nothing else', () => {
    expect(
      dnsNamesOf('DNS:orders, DNS:orders.s2s.svc, IP Address:10.0.0.5, URI:spiffe://x/users'),
    ).toEqual(['orders', 'orders.s2s.svc']);
    expect(dnsNamesOf(undefined)).toEqual([]);
    expect(dnsNamesOf('')).toEqual([]);
  });

  it('does not read a service name out of a quoted name that contains one (Node quotes a name with ", ")', () => {
    // A certificate with the single DNS name `evil, DNS:users` is printed quoted.
    expect(dnsNamesOf('DNS:"evil, DNS:users"')).not.toContain('users');
  });
});
