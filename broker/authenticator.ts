import type { Principal } from './acl.ts';

export interface ConnectAttempt {
  clientId: string;
  username: string | undefined;
  password: Buffer | undefined;
  address: string | null;
  /**
   * The source is throttled: accept only a secret verified before (a fast fingerprint check) and
   * compute nothing for any other, answering `throttled`.
   */
  cachedOnly?: boolean;
}

/** Why a CONNECT was refused; maps to a CONNACK return code. */
export type RefusalReason =
  | 'bad_client_id'
  | 'client_id_mismatch'
  | 'missing_credentials'
  | 'unknown_account'
  | 'bad_secret'
  | 'will_not_allowed'
  | 'throttled'
  | 'busy'
  /** A client certificate the CA issued whose CN is not a registered vehicle (or names no vehicle). */
  | 'unknown_certificate';

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: RefusalReason };

/** The one thing the broker asks of the registry. */
export interface Authenticator {
  authenticate(attempt: ConnectAttempt): Promise<AuthResult>;
  /**
   * Mutual TLS: the vehicle named by a verified client certificate's CN, if it is registered
   * (`unknown_certificate` otherwise). None: certificates authenticate nobody.
   */
  authenticateCertificate?(vehicleId: string): Promise<AuthResult>;
}

/** MQTT 3.1.1 CONNACK codes: 2 identifier rejected, 3 server unavailable, 4 bad user name or password, 5 not authorized. */
export const CONNACK_CODE: Record<RefusalReason, 2 | 3 | 4 | 5> = {
  bad_client_id: 2,
  client_id_mismatch: 2,
  missing_credentials: 4,
  unknown_account: 4,
  bad_secret: 4,
  will_not_allowed: 5,
  throttled: 5,
  busy: 3,
  unknown_certificate: 5,
};
