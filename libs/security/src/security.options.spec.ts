import { resolveSecurityOptions, type SecurityModuleOptions } from './security.options';

const valid: SecurityModuleOptions = { issuer: 'https://auth.example', audience: 'inventory' };

describe('SecurityModule options', () => {
  it('defaults the JWKS and token endpoint from the issuer', () => {
    expect(resolveSecurityOptions({ ...valid, issuer: 'https://auth.example/' })).toMatchObject({
      jwksUri: 'https://auth.example/.well-known/jwks.json',
      tokenEndpoint: 'https://auth.example/oauth/token',
      clockToleranceSeconds: 30,
      algorithms: ['ES256', 'RS256', 'EdDSA'],
    });
  });

  it.each<[string, Partial<SecurityModuleOptions> & Record<string, unknown>]>([
    ['options.issuer', { issuer: 'file:///etc/passwd' }],
    ['options.issuer', { issuer: 'not a url' }],
    ['options.audience', { audience: '' }],
    ['options.audience', { audience: 'Users Service' }],
    ['options.clockToleranceSeconds', { clockToleranceSeconds: 31 }],
    ['options.clockToleranceSeconds', { clockToleranceSeconds: -1 }],
    ['options.algorithms', { algorithms: ['HS256' as never] }],
    ['options.algorithms', { algorithms: ['none' as never] }],
    ['options.algorithms', { algorithms: [] }],
    ['options.jwksUri', { jwksUri: 'https://user:pw@auth.example/jwks' }],
    ['options.client.secret', { client: { id: 'x', secret: '' } }],
    ['options.revocations', { revocations: 'yes' as never }],
  ])('throws a TypeError naming %s', (name, patch) => {
    expect(() => resolveSecurityOptions({ ...valid, ...patch })).toThrow(TypeError);
    expect(() => resolveSecurityOptions({ ...valid, ...patch })).toThrow(name);
  });
});
