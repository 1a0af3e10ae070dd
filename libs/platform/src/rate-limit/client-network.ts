import { isIPv4, isIPv6 } from 'node:net';

/**
 * The network a per-address limit counts a client in: its IPv4 address, or the /64 of an IPv6
 * address. A single IPv6 customer holds at least a /64 (RFC 6177), 2^64 addresses it can
 * draw a new one from for every request: counted per address, a limit per IP bound nothing.
 * An IPv4-mapped address (`::ffff:192.0.2.1`) counts as its IPv4 address. Anything else (no
 * address at all) is counted as given.
 */
export function clientNetwork(address: string): string {
  const ip = address.split('%')[0];
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return address;
  const groups = hextets(ip.toLowerCase());
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, an IPv4 tail as two). */
function hextets(ip: string): number[] {
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [parseInt(group, 16)];
          const [a, b, c, d] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head, tail] = ip.split('::');
  if (tail === undefined) return parse(head);
  const front = parse(head);
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}
