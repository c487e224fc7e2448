/** The error codes of the cluster parts (see core/errors.ts). */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    /** A diagnostics write of a vehicle whose lease this node no longer holds (cluster/vehicle-owners.ts). */
    OWNER_LOST: true;
  }
}

export {};
