/** The error codes of operator commands (see core/errors.ts); web/errors.ts gives each its HTTP status. */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    /** The command name is not in the operator catalogue (commands/catalogue.ts). */
    COMMAND_UNKNOWN: true;
    /** This account may not send this command to this vehicle (commands/policy.ts). */
    COMMAND_NOT_ALLOWED: true;
    /** A command that changes the power state was sent without `confirmed: true` (the console's second confirmation). */
    CONFIRMATION_REQUIRED: true;
    /** The vehicle is not connected: the command is refused, never queued. */
    VEHICLE_OFFLINE: true;
    /** A command id that was already used for another vehicle, name or arguments. */
    COMMAND_CONFLICT: true;
    COMMAND_NOT_FOUND: true;
  }
}

export {};
