import { createHmac, generateKeyPairSync } from 'node:crypto';
import { decodeCompact, encodeHeader, signCompact, verifySignature } from './jws';

const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rs = generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const code = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'accepted';
};

describe('verifySignature', () => {
  it('accepts a token signed by the key', async () => {
    const token = await signCompact(
      encodeHeader({ alg: 'ES256', typ: 'at+jwt' }),
      'ES256',
      { sub: 'a' },
      es.privateKey,
    );
    expect(code(() => verifySignature(decodeCompact(token), es.publicKey))).toBe('accepted');
  });

  it('rejects a token whose alg is none', async () => {
    const token = `${b64({ alg: 'none' })}.${b64({ sub: 'a' })}.`;
    expect(code(() => verifySignature(decodeCompact(token), es.publicKey))).toBe(
      'ERR_JOSE_ALG_NOT_ALLOWED',
    );
  });

  it('rejects HS256 signed with the public key as secret (algorithm confusion)', async () => {
    const input = `${b64({ alg: 'HS256' })}.${b64({ sub: 'a' })}`;
    const signature = createHmac('sha256', rs.publicKey.export({ format: 'pem', type: 'spki' }))
      .update(input)
      .digest('base64url');
    expect(code(() => verifySignature(decodeCompact(`${input}.${signature}`), rs.publicKey))).toBe(
      'ERR_JOSE_ALG_NOT_ALLOWED',
    );
  });

  it("rejects an alg that is allowed but not the key's own", async () => {
    const token = await signCompact(
      encodeHeader({ alg: 'RS256' }),
      'RS256',
      { sub: 'a' },
      rs.privateKey,
    );
    expect(code(() => verifySignature(decodeCompact(token), es.publicKey))).toBe(
      'ERR_JOSE_ALG_NOT_ALLOWED',
    );
  });

  it('rejects a crit header', async () => {
    const token = await signCompact(
      encodeHeader({ alg: 'ES256', crit: ['exp'] }),
      'ES256',
      { sub: 'a' },
      es.privateKey,
    );
    expect(code(() => verifySignature(decodeCompact(token), es.publicKey))).toBe(
      'ERR_JOSE_NOT_SUPPORTED',
    );
  });

  it('rejects a modified payload', async () => {
    const token = await signCompact(
      encodeHeader({ alg: 'ES256' }),
      'ES256',
      { sub: 'a' },
      es.privateKey,
    );
    const [h, , s] = token.split('.');
    expect(
      code(() => verifySignature(decodeCompact(`${h}.${b64({ sub: 'b' })}.${s}`), es.publicKey)),
    ).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });
});
