/**
 * Which algorithm should auth sign with? A token is signed once and verified at every hop
 * that does not have it cached. Prints µs per sign and per verify (raw node:crypto, one
 * core) and the number of uncached verifications per token at which RS256 overtakes ES256.
 */
import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

const ITERATIONS = 2000;
const input = Buffer.from(
  'eyJhbGciOiJFUzI1NiJ9.' +
    Buffer.from(
      JSON.stringify({
        sub: 'x'.repeat(36),
        aud: 'orders',
        scope: 'orders:read',
        exp: 1,
        iat: 1,
        jti: 'y'.repeat(22),
      }),
    ).toString('base64url'),
);

function micros(fn: () => void): number {
  for (let i = 0; i < 200; i++) fn();
  const started = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) fn();
  return Number(process.hrtime.bigint() - started) / 1e3 / ITERATIONS;
}

function measure(name: string, hash: string | null, privateKey: KeyObject, publicKey: KeyObject) {
  const signature = sign(hash, input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const signUs = micros(() => sign(hash, input, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
  const verifyUs = micros(() =>
    verify(hash, input, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature),
  );
  return { name, signUs, verifyUs, bytes: signature.length };
}

const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rs = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');
const rows = [
  measure('ES256', 'sha256', es.privateKey, es.publicKey),
  measure('RS256', 'sha256', rs.privateKey, rs.publicKey),
  measure('EdDSA', null, ed.privateKey, ed.publicKey),
];
for (const row of rows) {
  console.log(
    `${row.name.padEnd(6)} sign ${row.signUs.toFixed(1).padStart(7)} µs  verify ${row.verifyUs.toFixed(1).padStart(6)} µs  signature ${row.bytes} B`,
  );
}
const [esRow, rsRow] = rows;
const breakEven = (rsRow.signUs - esRow.signUs) / (esRow.verifyUs - rsRow.verifyUs);
console.log(
  `RS256 costs less in total only when a token is verified (uncached) more than ${breakEven.toFixed(1)} times`,
);
