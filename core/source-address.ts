import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a client address is throttled by: an IPv4 address as is (an IPv4-mapped IPv6 address
 * as its IPv4 form), an IPv6 address by its /64 network, since one subscriber usually holds a
 * whole /64 and could otherwise take a fresh address for every attempt. Anything else is kept as is.
 */
export function sourceKey(address: string | null | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  // an embedded IPv4 tail (e.g. ::1.2.3.4) counts as two groups; only the first four groups matter here
  const groups = address.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
