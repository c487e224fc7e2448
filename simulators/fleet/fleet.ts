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
/** Parts of a tick the shared loop runs apart (at most; a tick gets one per 5 ms of it). */
export const FLEET_SLICES = 10;

export interface FleetOptions {
  vehicles: readonly SimVehicle[];
  brokerUrl: string;
  rateHz: number;
  seed: number | string;
  /** Simulated time at which the run starts; scenario `at` offsets count from here. */
  startTs: number;
  scenarios?: readonly ScenarioEntry[];
  /** How often each gateway is ticked, wall ms (the shared loop runs in slices of it). Default: FLEET_DEFAULTS. */
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
  /**
   * The p99 of the acknowledgements in each 10 s of the run since `start()` (null: none in it), so
   * that a run's tail can be placed: the connect storm, or later. Kept for the first 2 h of a run.
   */
  p99AckMsBy10s: (number | null)[];
}

/** The span of `p99AckMsBy10s`' windows, and how many of them are kept (2 h). */
export const ACK_WINDOW_MS = 10_000;
export const ACK_WINDOWS_KEPT = 720;

/**
 * Many simulated vehicles in one process: a model and a reference gateway each, all driven by one
 * shared timer loop (not a timer per vehicle) that ticks each gateway just after its phase, first
 * samples spread over one period, CONNECTs throttled, publish→PUBACK latency in one histogram.
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
  /** Per ACK_WINDOW_MS since start(): the PUBACK latency of that window. */
  const windows: ReturnType<typeof createLatencyHistogram>[] = [];
  let startedAt = 0;
  const jitter = createRandom(`${options.seed}:jitter`);
  const periodMs = 1000 / options.rateHz;

  const phaseOf = (i: number) => Math.floor((i / Math.max(1, options.vehicles.length)) * periodMs);

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
          const w = Math.floor((realNow() - startedAt) / ACK_WINDOW_MS);
          if (w < ACK_WINDOWS_KEPT) (windows[w] ??= createLatencyHistogram()).record(ms, frames);
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
        phaseMs: phaseOf(i),
        ...(options.bufferCapacity ? { bufferCapacity: options.bufferCapacity } : {}),
        ...(options.dataDir ? { dataDir: options.dataDir } : {}),
        ...(options.tls
          ? { tls: { ...(options.tls.ca ? { ca: options.tls.ca } : {}), ...options.tls.clientCert?.(v.id) } }
          : {}),
      },
    );
  });

  // Every gateway is ticked once per tickMs, but not all at once: the loop runs SLICES times per
  // tick, each time for the gateways whose phase fell in the slice just before it. A frame leaves
  // within one slice of its sample time, and the fleet's publishes are spread over the period as
  // independent devices' would be, instead of one burst of a tenth of the fleet every tick (which
  // the platform then takes one after another, and whose PUBACKs wait behind the whole tick's work
  // in this process). The work per second is the same.
  const tickMs = options.tickMs ?? FLEET_DEFAULTS.tickMs;
  const slices = Math.max(1, Math.min(FLEET_SLICES, Math.floor(tickMs / 5)));
  const sliceMs = tickMs / slices;
  const groups: Gateway[][] = Array.from({ length: slices }, () => []);
  gateways.forEach((g, i) => groups[Math.ceil((phaseOf(i) % tickMs) / sliceMs) % slices]!.push(g));

  let timer: NodeJS.Timeout | undefined;
  let slice = 0;
  let ticks = 0;
  let tickBusyMs = 0;

  function tick(which: readonly Gateway[]) {
    const t0 = realNow();
    const now = clock.now();
    for (const g of which) g.tick(now);
    tickBusyMs += realNow() - t0;
  }

  function nextSlice() {
    tick(groups[slice]!);
    slice = (slice + 1) % slices;
    if (slice === 0) ticks++;
  }

  return {
    gateways,
    plan,
    start() {
      startedAt = realNow();
      for (const g of gateways) g.start();
      tick(gateways);
      ticks++;
      // slice 0 (phases on the tick's own grid) comes round again one tick after this first one
      slice = 1 % slices;
      timer = setInterval(nextSlice, sliceMs);
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
    /**
     * How many are connected and what was acknowledged: the two figures a run follows every second,
     * without the rest of `stats()` (which visits every gateway's buffer and faults; for thousands
     * of gateways a stall of its own in the process that measures the PUBACKs).
     */
    progress(): { vehicles: number; connected: number; framesAcked: number } {
      let connected = 0;
      let framesAcked = 0;
      for (const g of gateways) {
        if (g.state() === 'online') connected++;
        framesAcked += g.framesAcked();
      }
      return { vehicles: gateways.length, connected, framesAcked };
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
        p99AckMsBy10s: Array.from(windows, (w) => w?.percentile(99) ?? null),
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
