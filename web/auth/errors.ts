/** The error codes of accounts, passwords, second factors, reset links, sessions and API tokens. */
declare module '../../core/errors.ts' {
  interface ErrorCodes {
    /** A password shorter than PASSWORD_MIN_LENGTH characters. */
    PASSWORD_TOO_SHORT: true;
    /** Only spaces, digits only, too few different characters, a repetition or a keyboard/number sequence. */
    PASSWORD_TOO_SIMPLE: true;
    /** A commonly used (breached) password, give or take case, separators, digits and l33t spelling. */
    PASSWORD_COMMON: true;
    /** Built on the account's id or name, or the product's name. */
    PASSWORD_PERSONAL: true;
    /** The deployment requires a second factor for this role (REQUIRE_2FA_ROLES): enrol first. */
    TWO_FACTOR_REQUIRED: true;
    /** A wrong, reused or expired TOTP or recovery code, or an unknown login challenge. */
    TWO_FACTOR_FAILED: true;
    /** Enrolling while a second factor is already on, or confirming/disabling one that is not. */
    TWO_FACTOR_STATE: true;
    /** This admin action needs the password or a TOTP code proven in the last REAUTH_WINDOW_MS. */
    REAUTH_REQUIRED: true;
    /** A password reset link that does not exist, was used, or expired. */
    RESET_LINK_INVALID: true;
    /** No such session of this account. */
    LOGIN_SESSION_NOT_FOUND: true;
    /** No such API token. */
    TOKEN_NOT_FOUND: true;
    /** An admin disabling its own account (it would be signed out and locked out at once). */
    ADMIN_LOCKOUT: true;
  }
}
export {};
