import type { IClientOptions, MqttClient } from 'mqtt';
import type { Clock } from '../clock.ts';
import { createGateway, type Gateway, type GatewayLog, type GatewayTls } from '../gateway/gateway.ts';
import { createRandom } from '../model/random.ts';
import { createVehicleModel, type VehicleModelOptions } from '../model/vehicle.ts';
import { planScenarios, toModelFault, type PlannedFault } from '../scenarios/plan.ts';
import type { ScenarioEntry } from '../scenarios/scenario-file.ts';
import { createConnectLimiter } from './connect-limiter.ts';
import type { SimVehicle } from './credentials-file.ts';
import { createLatencyHistogram } from './latency.ts';

/** What a fleet does when its options leave a setting out (the simulate CLI shows the same). */
export const FLEET_DEFAULTS = { tickMs: 100, connectConcurrency: 64 } as const;

export interface FleetOptions {
  vehicles: readonly SimVehicle[];
  brokerUrl: string;
  rateHz: number;
  seed: number | string;
  /** Simulated time at which the run starts; scenario `at` offsets count from here. */
  startTs: number;
  scenarios?: readonly ScenarioEntry[];
  /** The one shared loop's period, wall ms. Default: FLEET_DEFAULTS. */
  tickMs?: number;
  connectConcurrency?: number;
  bufferCapacity?: number;
  dataDir?: string;
  /**
   * MQTT over TLS: the CA every gateway trusts and, for mutual TLS, each vehicle's client
   * certificate and key (none for a vehicle: it logs in with its secret).
   */
  tls?: { ca?: string | Buffer; clientCert?: (vehicleId: string) => Pick<GatewayTls, 'cert' | 'key'> | undefined };
  /** Model settings for every vehicle (e.g. stepS, mainsOutagesPerDay). */
  model?: Partial<Omit<VehicleModelOptions, 'vehicleId' | 'seed' | 'startTs' | 'profile' | 'faults' | 'home'>>;
}

export interface FleetDeps {
  clock: Clock;
  log?: GatewayLog;
  connect?: (url: string, options: IClientOptions) => MqttClient;
  realNow?: () => number;
}

export interface FleetStats {
  vehicles: number;
  connected: number;
  framesSampled: number;
  framesAcked: number;
  buffered: number;
  inflight: number;
  dropped: number;
  lostOnReboot: number;
  skippedSamples: number;
  connectFailures: number;
  errorsReceived: number;
  errorsByCode: Record<string, number>;
  commands: number;
  vehiclesWithFaults: number;
  activeFaults: Record<string, number>;
  p50AckMs: number | null;
  p99AckMs: number | null;
  /** The same over the acknowledgements since `markSteady()` (null before it, or none since). */
  steadyP50AckMs: number | null;
  steadyP99AckMs: number | null;
}

/**
 * Many simulated vehicles in one process: a model and a reference gateway each, all driven by one
 * shared timer loop (not a timer per vehicle), first samples spread over one period, CONNECTs
 * throttled, publish→PUBACK latency in one histogram.
 */
export function createFleet(deps: FleetDeps, options: FleetOptions) {
  const { clock } = deps;
  const realNow = deps.realNow ?? Date.now;
  const ids = options.vehicles.map((v) => v.id);
  const plan = planScenarios(options.scenarios ?? [], ids, options.startTs, options.seed);
  const limiter = createConnectLimiter(options.connectConcurrency ?? FLEET_DEFAULTS.connectConcurrency);
  const latency = createLatencyHistogram();
  /** From `markSteady()` on (every vehicle connected): the PUBACK latency without the connect storm's. */
  let steady: ReturnType<typeof createLatencyHistogram> | null = null;
  const jitter = createRandom(`${options.seed}:jitter`);
  const periodMs = 1000 / options.rateHz;

  const gateways: Gateway[] = options.vehicles.map((v, i) => {
    const planned: PlannedFault[] = plan.get(v.id) ?? [];
    const profile = v.profile;
    const model = createVehicleModel({
      ...options.model,
      vehicleId: v.id,
      seed: options.seed,
      startTs: options.startTs,
      ...(profile ? { profile } : {}),
      ...(v.home ? { home: v.home } : {}),
    });
    for (const p of planned) if (p.target === 'vehicle') model.addFault(toModelFault(p, model.profile));
    return createGateway(
      {
        clock,
        model,
        limiter,
        realNow,
        random: () => jitter.next(),
        onAck: (ms, frames) => {
          latency.record(ms, frames);
          steady?.record(ms, frames);
        },
        ...(deps.log ? { log: deps.log } : {}),
        ...(deps.connect ? { connect: deps.connect } : {}),
      },
      {
        vehicleId: v.id,
        secret: v.secret,
        brokerUrl: options.brokerUrl,
        rateHz: options.rateHz,
        faults: planned.filter((p) => p.target === 'gateway'),
        phaseMs: Math.floor((i / Math.max(1, options.vehicles.length)) * periodMs),
        ...(options.bufferCapacity ? { bufferCapacity: options.bufferCapacity } : {}),
        ...(options.dataDir ? { dataDir: options.dataDir } : {}),
        ...(options.tls
          ? { tls: { ...(options.tls.ca ? { ca: options.tls.ca } : {}), ...options.tls.clientCert?.(v.id) } }
          : {}),
      },
    );
  });

  let timer: NodeJS.Timeout | undefined;
  let ticks = 0;
  let tickBusyMs = 0;

  function tick() {
    const t0 = realNow();
    const now = clock.now();
    for (const g of gateways) g.tick(now);
    ticks++;
    tickBusyMs += realNow() - t0;
  }

  return {
    gateways,
    plan,
    start() {
      for (const g of gateways) g.start();
      tick();
      timer = setInterval(tick, options.tickMs ?? FLEET_DEFAULTS.tickMs);
    },
    /** Stops sampling, waits up to `drainMs` for buffers to empty, then disconnects everyone cleanly. */
    async stop(drainMs = 30_000): Promise<{ drained: boolean }> {
      if (timer) clearInterval(timer);
      timer = undefined;
      const results = await Promise.all(gateways.map((g) => g.drain(drainMs)));
      for (let i = 0; i < gateways.length; i += 200) await Promise.all(gateways.slice(i, i + 200).map((g) => g.stop()));
      return { drained: results.every(Boolean) };
    },
    loop: () => ({ ticks, busyMs: tickBusyMs }),
    /** Starts the steady latency figures (`steadyP50AckMs`, `steadyP99AckMs`) afresh from now. */
    markSteady(): void {
      steady = createLatencyHistogram();
    },
    stats(): FleetStats {
      const s: FleetStats = {
        vehicles: gateways.length,
        connected: 0,
        framesSampled: 0,
        framesAcked: 0,
        buffered: 0,
        inflight: 0,
        dropped: 0,
        lostOnReboot: 0,
        skippedSamples: 0,
        connectFailures: 0,
        errorsReceived: 0,
        errorsByCode: {},
        commands: 0,
        vehiclesWithFaults: 0,
        activeFaults: {},
        p50AckMs: latency.percentile(50),
        p99AckMs: latency.percentile(99),
        steadyP50AckMs: steady?.percentile(50) ?? null,
        steadyP99AckMs: steady?.percentile(99) ?? null,
      };
      for (const g of gateways) {
        const x = g.stats();
        if (x.state === 'online') s.connected++;
        s.framesSampled += x.framesSampled;
        s.framesAcked += x.framesAcked;
        s.buffered += x.buffered;
        s.inflight += x.inflight;
        s.dropped += x.dropped;
        s.lostOnReboot += x.lostOnReboot;
        s.skippedSamples += x.skippedSamples;
        s.connectFailures += x.connectFailures;
        s.errorsReceived += x.errorsReceived;
        s.commands += x.commands;
        for (const [k, n] of Object.entries(x.errorsByCode)) s.errorsByCode[k] = (s.errorsByCode[k] ?? 0) + n;
        if (x.activeFaults.length) s.vehiclesWithFaults++;
        for (const f of x.activeFaults) s.activeFaults[f] = (s.activeFaults[f] ?? 0) + 1;
      }
      return s;
    },
  };
}

export type Fleet = ReturnType<typeof createFleet>;
