/** The error codes of the cluster parts (see core/errors.ts). */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    /** A diagnostics write of a vehicle whose lease this node no longer holds (cluster/vehicle-owners.ts). */
    OWNER_LOST: true;
    /** Redis (cluster mode) cannot be reached: a new MQTT connection, a message to a vehicle, … (cluster/redis.ts). */
    REDIS_UNAVAILABLE: true;
  }
}

export {};
