import {
  X509Certificate,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import { isIP } from 'node:net';
import { PlatformError } from '../core/errors.ts';
import { isValidVehicleId } from '../protocol/index.ts';
import {
  bits,
  bool,
  children,
  explicit,
  implicit,
  namedBits,
  nul,
  octets,
  oid,
  oidText,
  read,
  seq,
  set,
  time,
  uint,
  utf8,
} from './der.ts';

/**
 * A small certificate authority for mutual TLS in tests and small deployments (`npm run certs`):
 * a project CA, vehicle client certificates whose CN is the vehicle id (how the broker knows the
 * vehicle: client-certificate.ts) and server certificates for the broker. Keys are EC P-256. A CA
 * made elsewhere (an RSA or EC P-256/P-384 key) can sign as well. Built with node's crypto only.
 */

/** A certificate and its private key, PEM. */
export interface IssuedPair {
  cert: string;
  key: string;
}

export interface CertificateAuthority {
  cert: string;
  key: string;
}

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  rsaSha256: '1.2.840.113549.1.1.11',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  crlNumber: '2.5.29.20',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

const DAY_MS = 86_400_000;
/** Issued certificates are valid from a few minutes back, for clocks slightly behind. */
const SKEW_MS = 5 * 60_000;

export interface Validity {
  /** Default: now minus 5 minutes. */
  notBefore?: Date;
  /** Default: `days` after now. */
  notAfter?: Date;
  days?: number;
}

const newKey = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

const name = (cn: string, org?: string) =>
  seq(...(org ? [set(seq(oid(OID.organization), utf8(org)))] : []), set(seq(oid(OID.commonName), utf8(cn))));

const extension = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/** The key identifier of a public key: SHA-1 of its subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1). */
function keyId(spki: Buffer): Buffer {
  const top = read(spki);
  const bitString = children(spki, top)[1]!;
  return createHash('sha1')
    .update(spki.subarray(bitString.start + 1, bitString.end))
    .digest();
}

/** How a key signs: the algorithm identifier and the digest. */
export function signatureOf(key: KeyObject): { alg: Buffer; digest: string } {
  if (key.asymmetricKeyType === 'rsa') return { alg: seq(oid(OID.rsaSha256), nul()), digest: 'sha256' };
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { alg: seq(oid(OID.ecdsaSha256)), digest: 'sha256' };
    if (curve === 'secp384r1') return { alg: seq(oid(OID.ecdsaSha384)), digest: 'sha384' };
  }
  throw new PlatformError(
    'INVALID_ARGUMENT',
    `the CA key is ${key.asymmetricKeyType ?? 'of an unknown type'}${key.asymmetricKeyDetails?.namedCurve ? ` (${key.asymmetricKeyDetails.namedCurve})` : ''}: an RSA or EC P-256/P-384 key can sign`,
  );
}

/** DER as PEM with this label (CERTIFICATE, X509 CRL). */
export const pem = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END ${label}-----\n`;

export interface Signer {
  /** The issuer's subject, DER, copied into the certificate's issuer. */
  subject: Buffer;
  key: KeyObject;
  /** The issuer's key identifier, when its certificate has one (the authority key identifier). */
  keyId?: Buffer;
}

function build(
  subject: Buffer,
  spki: Buffer,
  extensions: Buffer[],
  signer: Signer | 'self',
  selfKey: KeyObject,
  validity: Validity,
  defaultDays: number,
): string {
  const now = Date.now();
  const notBefore = validity.notBefore ?? new Date(now - SKEW_MS);
  const notAfter = validity.notAfter ?? new Date(now + (validity.days ?? defaultDays) * DAY_MS);
  if (notAfter <= notBefore) throw new PlatformError('INVALID_ARGUMENT', 'a certificate must end after it begins');
  const key = signer === 'self' ? selfKey : signer.key;
  const { alg, digest } = signatureOf(key);
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f || 0x01; // positive, 16 bytes
  const ownId = keyId(spki);
  const authorityId = signer === 'self' ? ownId : signer.keyId;
  const tbs = seq(
    explicit(0, uint(Buffer.from([2]))), // v3
    uint(serial),
    alg,
    signer === 'self' ? subject : signer.subject,
    seq(time(notBefore), time(notAfter)),
    subject,
    spki,
    explicit(
      3,
      seq(
        ...extensions,
        extension(OID.subjectKeyId, false, octets(ownId)),
        ...(authorityId ? [extension(OID.authorityKeyId, false, seq(implicit(0, authorityId)))] : []),
      ),
    ),
  );
  const signature = sign(digest, tbs, key);
  return pem('CERTIFICATE', seq(tbs, alg, bits(signature)));
}

/** A new self-signed CA (EC P-256), 10 years unless told. */
export function createCertificateAuthority(
  options: { name?: string; days?: number } & Validity = {},
): CertificateAuthority {
  const { publicKey, privateKey } = newKey();
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subject = name(options.name ?? 'PowerWatch vehicle CA', 'PowerWatch');
  const cert = build(
    subject,
    spki,
    [
      extension(OID.basicConstraints, true, seq(bool(true), uint(Buffer.from([0])))),
      extension(OID.keyUsage, true, namedBits([0, 5, 6])), // digitalSignature, keyCertSign, cRLSign
    ],
    'self',
    privateKey,
    options,
    3650,
  );
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/**
 * The signer of a CA given as PEM (ours, or one made elsewhere): its certificate must be a CA
 * certificate whose public key is the key's.
 */
export function loadSigner(ca: CertificateAuthority): Signer {
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(ca.cert);
  } catch (err) {
    throw new PlatformError('INVALID_ARGUMENT', 'the CA certificate is not a PEM certificate', { cause: err });
  }
  try {
    key = createPrivateKey(ca.key);
  } catch (err) {
    throw new PlatformError('INVALID_ARGUMENT', 'the CA key is not a PEM private key (unencrypted)', { cause: err });
  }
  if (!cert.ca)
    throw new PlatformError(
      'INVALID_ARGUMENT',
      'the CA certificate is not a CA certificate (basicConstraints CA:TRUE)',
    );
  const certKey = cert.publicKey.export({ type: 'spki', format: 'der' });
  if (!createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(certKey))
    throw new PlatformError('INVALID_ARGUMENT', 'the CA key does not belong to the CA certificate');
  if (new Date(cert.validTo).getTime() < Date.now())
    throw new PlatformError('INVALID_ARGUMENT', `the CA certificate expired on ${cert.validTo}`);
  signatureOf(key);
  const raw = cert.raw;
  const tbs = children(raw, read(raw))[0]!;
  const fields = children(raw, tbs);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0; // [0] version
  const subjectEl = fields[offset + 4]!;
  let caKeyId: Buffer | undefined;
  const exts = fields.find((f) => f.tag === 0xa3);
  if (exts)
    for (const ext of children(raw, children(raw, exts)[0]!)) {
      const parts = children(raw, ext);
      if (oidText(raw, parts[0]!) !== OID.subjectKeyId) continue;
      const value = parts[parts.length - 1]!; // OCTET STRING holding an OCTET STRING
      const inner = read(raw, value.start);
      caKeyId = Buffer.from(raw.subarray(inner.start, inner.end));
    }
  return {
    subject: Buffer.from(raw.subarray(subjectEl.at, subjectEl.end)),
    key,
    ...(caKeyId ? { keyId: caKeyId } : {}),
  };
}

/** A vehicle's client certificate: CN = the vehicle id, for TLS client authentication; 825 days unless told. */
export function issueVehicleCertificate(
  ca: CertificateAuthority,
  vehicleId: string,
  validity: Validity = {},
): IssuedPair {
  if (!isValidVehicleId(vehicleId))
    throw new PlatformError(
      'INVALID_ARGUMENT',
      `"${vehicleId}" is not a vehicle id (letters, digits, - and _, up to 64)`,
    );
  const signer = loadSigner(ca);
  const { publicKey, privateKey } = newKey();
  const cert = build(
    name(vehicleId),
    publicKey.export({ type: 'spki', format: 'der' }),
    [
      extension(OID.basicConstraints, true, seq()),
      extension(OID.keyUsage, true, namedBits([0])), // digitalSignature
      extension(OID.extKeyUsage, false, seq(oid(OID.clientAuth))),
    ],
    signer,
    privateKey,
    validity,
    825,
  );
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** The broker's server certificate for these host names and IP addresses (the first is the CN). */
export function issueServerCertificate(
  ca: CertificateAuthority,
  hosts: readonly string[],
  validity: Validity = {},
): IssuedPair {
  if (!hosts.length)
    throw new PlatformError('INVALID_ARGUMENT', 'a server certificate needs at least one host name or address');
  const altNames = hosts.map((h) => {
    const v = isIP(h);
    if (v === 4) return implicit(7, Buffer.from(h.split('.').map(Number)));
    if (v === 6) throw new PlatformError('INVALID_ARGUMENT', `IPv6 addresses are not supported here: ${h}`);
    if (!/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(h))
      throw new PlatformError('INVALID_ARGUMENT', `"${h}" is not a host name or IPv4 address`);
    return implicit(2, Buffer.from(h, 'ascii'));
  });
  const signer = loadSigner(ca);
  const { publicKey, privateKey } = newKey();
  const cert = build(
    name(hosts[0]!),
    publicKey.export({ type: 'spki', format: 'der' }),
    [
      extension(OID.basicConstraints, true, seq()),
      extension(OID.keyUsage, true, namedBits([0])),
      extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
      extension(OID.subjectAltName, false, seq(...altNames)),
    ],
    signer,
    privateKey,
    validity,
    825,
  );
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}
