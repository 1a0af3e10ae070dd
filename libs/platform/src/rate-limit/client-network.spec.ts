import { clientNetwork } from './client-network';

describe('clientNetwork (what a per-address limit counts)', () => {
  it('counts every address of an IPv6 /64 as one client', () => {
    const network = clientNetwork('2001:db8:1:2::1');
    for (const address of [
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0DB8:0001:0002:0:0:0:7',
      '2001:db8:1:2:a:b:c:d%eth0',
      '2001:db8:1:2::192.0.2.7',
    ]) {
      expect(clientNetwork(address)).toBe(network);
    }
    expect(network).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8:1:3::1')).not.toBe(network);
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
  });

  it('counts IPv4 per address, an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(clientNetwork('192.0.2.1')).toBe('192.0.2.1');
    expect(clientNetwork('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientNetwork('::ffff:c000:201')).toBe('192.0.2.1');
    expect(clientNetwork('192.0.2.2')).not.toBe(clientNetwork('192.0.2.1'));
  });

  it('leaves what is not an address as it is', () => {
    expect(clientNetwork('')).toBe('');
    expect(clientNetwork('unknown')).toBe('unknown');
  });
});
