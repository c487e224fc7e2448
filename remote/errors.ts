/** The error codes of remote guidance sessions and the duty roster (see core/errors.ts). */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    /** No such session, or one the caller may not see (the same answer, so ids cannot be probed). */
    SESSION_NOT_FOUND: true;
    /** The session's status does not allow that now (answering a live or ended session, chatting in an ended one, …). */
    SESSION_INVALID_STATE: true;
    /** The ticket has an open session already: one open session per ticket. */
    SESSION_ALREADY_OPEN: true;
    /** The caller is not (or no longer) a participant of the session: join first. */
    SESSION_NOT_JOINED: true;
    DUTY_SHIFT_NOT_FOUND: true;
    /** No step with that index in the session. */
    STEP_NOT_FOUND: true;
    /** No such photo in the session (a session the caller may not see answers SESSION_NOT_FOUND first). */
    PHOTO_NOT_FOUND: true;
    /** A photo over the 5 MB limit. */
    PHOTO_TOO_LARGE: true;
    /** The bytes are not a JPEG, PNG or WebP image. */
    PHOTO_TYPE_UNSUPPORTED: true;
    /** The bytes are a different image type than the content-type header says. */
    PHOTO_TYPE_MISMATCH: true;
    /** No such invitation of the session. */
    INVITE_NOT_FOUND: true;
    /** A guest link that is unknown, used, expired or revoked, or whose session has ended (one answer for all). */
    GUEST_LINK_INVALID: true;
  }
}

export {};
