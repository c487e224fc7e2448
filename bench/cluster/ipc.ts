/** Messages between bench:cluster (run.ts) and its failover gateways process (gateways.ts). */

export type GatewaysToParent =
  | { type: 'connected'; connected: number; ms: number }
  | { type: 'since'; closed: number; reconnectMs: number[]; connected: number }
  | { type: 'result'; acked: [string, number[]][]; inflightLeft: number; errors: number }
  | { type: 'fatal'; message: string };

export type ParentToGateways = { type: 'since'; at: number } | { type: 'finish' };
