// Throwaway certificate authorities for tests (openssl, P-256, valid one day): a CA and the
// certificates it signs, as PEM files in a temporary directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
}

export interface TestCa {
  caFile: string;
  /**
   * A certificate for `subjectAltName` (e.g. `DNS:localhost,IP:127.0.0.1`), for servers and
   * clients alike unless `usage` says otherwise.
   */
  issue(name: string, subjectAltName: string, usage?: string): IssuedCertificate;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** A directory for CAs; `remove()` deletes it with every key in it. */
export function createTestPki(prefix: string): {
  ca(name: string): TestCa;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const file = (name: string) => join(dir, name);
  return {
    ca(caName: string): TestCa {
      openssl(
        ...['req', '-x509', ...EC_KEY, '-keyout', file(`${caName}.key`)],
        ...['-out', file(`${caName}.pem`), '-days', '1', '-subj', `/CN=${caName} test CA`],
        ...['-addext', 'basicConstraints=critical,CA:TRUE'],
        ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      );
      return {
        caFile: file(`${caName}.pem`),
        issue(name, subjectAltName, usage = 'serverAuth,clientAuth') {
          const base = `${caName}-${name}`;
          openssl(
            ...['req', '-new', ...EC_KEY, '-keyout', file(`${base}.key`)],
            ...['-out', file(`${base}.csr`), '-subj', `/CN=${name}`],
          );
          writeFileSync(
            file(`${base}.ext`),
            `subjectAltName=${subjectAltName}\nextendedKeyUsage=${usage}\n`,
          );
          openssl(
            ...['x509', '-req', '-in', file(`${base}.csr`), '-CA', file(`${caName}.pem`)],
            ...['-CAkey', file(`${caName}.key`), '-CAcreateserial', '-days', '1'],
            ...['-extfile', file(`${base}.ext`), '-out', file(`${base}.pem`)],
          );
          return { certFile: file(`${base}.pem`), keyFile: file(`${base}.key`) };
        },
      };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
