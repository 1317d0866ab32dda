/** A throwaway self-signed certificate for 127.0.0.1 and localhost, made by the system's openssl. */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestCert {
  certFile: string
  keyFile: string
  /** The certificate itself (PEM), for clients to trust (`ca`). */
  cert: string
}

export function selfSignedCert(dir = mkdtempSync(join(tmpdir(), 'sm-tls-'))): TestCert {
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  const result = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { encoding: 'utf8' },
  )
  if (result.error || result.status !== 0) {
    throw new Error(
      `could not make a test certificate with openssl (apt-get install -y openssl): ${result.error?.message ?? result.stderr}`,
    )
  }
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8') }
}
