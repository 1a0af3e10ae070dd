import helmet from 'helmet';
import { securityHeaders } from './security-headers';

describe('securityHeaders', () => {
  it('are the headers helmet sets, with a strict CSP, HSTS and no referrer', () => {
    const headers = securityHeaders();
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['cross-origin-resource-policy']).toBe('same-origin');
    // As many as helmet's defaults set (a dropped middleware would show here).
    const defaults: string[] = [];
    helmet()(
      {} as never,
      {
        setHeader: (name: string) => defaults.push(name.toLowerCase()),
        removeHeader: () => undefined,
      } as never,
      () => undefined,
    );
    expect(Object.keys(headers).sort()).toEqual([...new Set(defaults)].sort());
  });

  it('cannot be changed by a caller', () => {
    expect(Object.isFrozen(securityHeaders())).toBe(true);
  });
});
