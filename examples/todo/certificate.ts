/**
 * A TLS certificate for `npm start -- --https`: browsers run libp2p (its
 * WebCrypto) only in a secure context, which a page served over plain http
 * to another device (a phone on the LAN) is not. Made once with `openssl`
 * (self-signed, for `localhost` and this machine's addresses) and kept in
 * the data directory; or the user's own (`--cert`, `--key`: from mkcert,
 * say, whose certificates the devices can trust).
 * @module
 */
import { execFile } from 'node:child_process'
import { access, mkdir, readFile } from 'node:fs/promises'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

/** No certificate could be read or made. */
export class CertificateError extends Error {
  override name = 'CertificateError'
}

/** A certificate and its private key, PEM. */
export interface Certificate {
  readonly cert: string
  readonly key: string
}

/** This machine's IPv4 addresses (loopback included). */
function addresses (): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => list ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address)
}

/** Reads `certFile` and `keyFile`. */
export async function readCertificate (certFile: string, keyFile: string): Promise<Certificate> {
  try {
    return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') }
  } catch (cause) {
    throw new CertificateError(`cannot read the certificate ${certFile} or its key ${keyFile}`, { cause })
  }
}

/** The self-signed certificate kept in `dir`, made with `openssl` the first time. */
export async function selfSignedCertificate (dir: string): Promise<Certificate> {
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  const made = await access(certFile).then(() => true, () => false)
  if (!made) {
    await mkdir(dir, { recursive: true })
    const names = ['DNS:localhost', ...addresses().map((ip) => `IP:${ip}`)].join(',')
    try {
      await promisify(execFile)('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '365',
        '-subj', '/CN=kadmium todo (npm start)', '-addext', `subjectAltName=${names}`, '-keyout', keyFile, '-out', certFile
      ])
    } catch (cause) {
      throw new CertificateError('could not make a certificate with openssl: install it, or give your own with --cert FILE --key FILE', { cause })
    }
  }
  return readCertificate(certFile, keyFile)
}
