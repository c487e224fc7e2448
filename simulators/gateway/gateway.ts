import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  COMMAND_IDS_REMEMBERED,
  COMMAND_RETAINED,
  commandSchema,
  commandValidity,
  telemetryConfirmedSchema,
  vehicleTopic,
  MAX_FRAMES_PER_BATCH,
  type CommandAck,
  type ProtocolError,
  type VehicleEvent,
  type VehicleStatus,
} from '../../protocol/index.ts';
import type { Clock } from '../clock.ts';
import type { VehicleModel } from '../model/vehicle.ts';
import type { PlannedFault } from '../scenarios/plan.ts';
import { executeCommand } from './commands.ts';
import { createDiskJournal } from './disk-journal.ts';
import { createFrameBuffer, type FrameBuffer, type FrameJournal } from './frame-buffer.ts';

export interface GatewayLog {
  info(msg: string): void;
  warn(msg: string): void;
}

/** Shared by a fleet so that thousands of gateways do not all CONNECT at once. */
export interface ConnectLimiter {
  tryAcquire(): boolean;
  release(): void;
}

export interface GatewayDeps {
  clock: Clock;
  model: VehicleModel;
  log?: GatewayLog;
  /** MQTT.js connect (injectable). */
  connect?: (url: string, options: IClientOptions) => MqttClient;
  limiter?: ConnectLimiter;
  /** Wall clock for latency figures and command expiry (not simulated time: the platform stamps commands with its own clock). */
  realNow?: () => number;
  /** Called for every acknowledged message: publish→PUBACK wall-clock latency and frames carried. */
  onAck?: (latencyMs: number, frames: number) => void;
  /** Jitter source for reconnect back-off, [0, 1). */
  random?: () => number;
}

/** What a gateway does when its options leave a setting out (the simulate CLI shows the same). */
export const GATEWAY_DEFAULTS = {
  rateHz: 1,
  bufferCapacity: 10_000,
  maxInflight: 4,
  reconnectMinMs: 1000,
  reconnectMaxMs: 30_000,
} as const;

export interface GatewayOptions {
  vehicleId: string;
  secret: string;
  brokerUrl: string;
  /** Frames per simulated second. Default: GATEWAY_DEFAULTS. */
  rateHz?: number;
  /** Frames held (unsent, or sent and awaiting the platform's confirmation). Default: GATEWAY_DEFAULTS. */
  bufferCapacity?: number;
  /** Frames per replay message, ≤ 500. */
  maxBatchFrames?: number;
  /** Messages awaiting PUBACK at once. Default: GATEWAY_DEFAULTS. */
  maxInflight?: number;
  /** Keep the buffer on disk under `dataDir/<vehicleId>/` (survives a restart; seq continues). */
  dataDir?: string;
  /** Gateway-side faults (link-loss, gateway-reboot). */
  faults?: PlannedFault[];
  keepaliveS?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Offset of the first sample after start, ms (spreads a fleet over the second). */
  phaseMs?: number;
  /**
   * MQTT over TLS (an `mqtts://` broker URL): the CA to trust, and for mutual TLS the vehicle's
   * client certificate (CN = its id) and key. With a certificate no user name or secret is sent.
   */
  tls?: GatewayTls;
}

export interface GatewayTls {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

export type GatewayState = 'idle' | 'connecting' | 'online' | 'offline' | 'down' | 'stopped';

export interface GatewayStats {
  state: GatewayState;
  framesSampled: number;
  /** Frames whose message the broker acknowledged (PUBACK: stored), counted once. */
  framesAcked: number;
  messagesSent: number;
  batchesSent: number;
  /** Frames not yet acknowledged: waiting to be sent, or in flight. */
  buffered: number;
  /** Acknowledged frames still held until the platform confirms them (`telemetry/confirmed`). */
  unconfirmed: number;
  inflight: number;
  /** Frames the full buffer dropped before they were sent: lost for good (also reported on `status`). */
  dropped: number;
  /** Acknowledged frames let go before their confirmation to make room (stored, so not lost). */
  releasedUnconfirmed: number;
  /** The newest confirmation taken from the platform. */
  confirmed: { seq: number; ts: number } | null;
  confirmations: number;
  backfillRequests: number;
  /** Frames sent again on backfill requests. */
  backfillFramesSent: number;
  /** Seqs asked for that the buffer no longer had. */
  backfillMissing: number;
  lostOnReboot: number;
  skippedSamples: number;
  connects: number;
  connectFailures: number;
  errorsReceived: number;
  errorsByCode: Record<string, number>;
  commands: number;
  commandsRefused: number;
  /** Commands refused unexecuted: past their expiry, stamped too far ahead, or delivered retained. */
  commandsExpired: number;
  /** Commands whose id was seen before: answered from memory, not executed again. */
  commandsRepeated: number;
  eventsSent: number;
  activeFaults: string[];
  lastError: string | null;
}

const MAX_SAMPLES_PER_TICK = 10_000;
const MAX_EVENTS_QUEUED = 500;
/** While online, a status with new buffer figures (frames dropped) at most this often, simulated ms. */
const STATUS_MIN_INTERVAL_MS = 10_000;

/**
 * The reference gateway: one vehicle's telematics unit. It samples the vehicle model at its rate,
 * keeps every frame in a bounded store-and-forward buffer until the platform confirmed it
 * (`telemetry/confirmed`), sends each once (again only after a link loss took its PUBACK, or on the
 * platform's `backfill` command), replays the backlog after a link loss as `{"frames":[...]}` batches
 * (oldest first, ≤ 500), announces itself on `status` (retained, with a last will, with its buffer
 * figures), reports controller events, answers `errors` and executes commands (each id once, none past
 * its expiry: docs/protocol.md). It is driven by `tick()` on a (possibly simulated) clock: a fleet
 * calls it from one loop.
 */
export function createGateway(deps: GatewayDeps, options: GatewayOptions) {
  const { clock, model } = deps;
  const id = options.vehicleId;
  const log = deps.log;
  const connectFn = deps.connect ?? ((url: string, o: IClientOptions) => mqtt.connect(url, o));
  const realNow = deps.realNow ?? Date.now;
  const random = deps.random ?? Math.random;
  const maxBatch = Math.min(MAX_FRAMES_PER_BATCH, options.maxBatchFrames ?? MAX_FRAMES_PER_BATCH);
  const maxInflight = options.maxInflight ?? GATEWAY_DEFAULTS.maxInflight;
  const capacity = options.bufferCapacity ?? GATEWAY_DEFAULTS.bufferCapacity;
  const reconnectMin = options.reconnectMinMs ?? GATEWAY_DEFAULTS.reconnectMinMs;
  const reconnectMax = options.reconnectMaxMs ?? GATEWAY_DEFAULTS.reconnectMaxMs;
  const baseRate = options.rateHz ?? GATEWAY_DEFAULTS.rateHz;
  const topics = {
    telemetry: vehicleTopic(id, 'telemetry'),
    status: vehicleTopic(id, 'status'),
    events: vehicleTopic(id, 'events'),
    commands: vehicleTopic(id, 'commands'),
    ack: vehicleTopic(id, 'commands/ack'),
    errors: vehicleTopic(id, 'errors'),
    confirmed: vehicleTopic(id, 'telemetry/confirmed'),
  };
  const emitter = new EventEmitter();
  emitter.setMaxListeners(100);

  const makeJournal = (): FrameJournal | undefined =>
    options.dataDir ? createDiskJournal(join(options.dataDir, id)) : undefined;
  let journal = makeJournal();
  let buffer: FrameBuffer = boot0();

  function boot0(): FrameBuffer {
    if (!journal) return createFrameBuffer({ capacity });
    const saved = journal.load();
    if (saved.nextSeq !== null) model.nextSeq = Math.max(model.nextSeq, saved.nextSeq);
    return createFrameBuffer({ capacity, journal, initial: saved.frames, initialAcked: saved.acked });
  }

  let state: GatewayState = 'idle';
  let client: MqttClient | null = null;
  let epoch = 0;
  let holdingPermit = false;
  let nextConnectAt = 0;
  let backoff = reconnectMin;
  let linkDownUntil = 0;
  let bootAt = 0;
  let rebootSeqRule: 'auto' | 'continue' | 'restart' = 'auto';
  let rateHz = baseRate;
  let rateUntil: number | null = null;
  let nextSampleAt = 0;
  const events: VehicleEvent[] = [];
  const faults = [...(options.faults ?? [])].sort((a, b) => a.startTs - b.startTs);
  const faultStarted = new Set<string>();
  const faultEnded = new Set<string>();
  const sentAt = new Map<number, number>();
  const recentErrors: ProtocolError[] = [];
  /** The answers to the latest commands by id (oldest first, bounded): a repeated id gets its answer again. */
  const answered = new Map<string, CommandAck>();
  let errorLogBudget = 10;
  let statusDropped = 0;
  let statusAt = -Infinity;

  const stats = {
    framesSampled: 0,
    framesAcked: 0,
    messagesSent: 0,
    batchesSent: 0,
    lostOnReboot: 0,
    skippedSamples: 0,
    connects: 0,
    connectFailures: 0,
    errorsReceived: 0,
    errorsByCode: {} as Record<string, number>,
    commands: 0,
    commandsRefused: 0,
    commandsExpired: 0,
    commandsRepeated: 0,
    eventsSent: 0,
    confirmations: 0,
    backfillRequests: 0,
    backfillFramesSent: 0,
    backfillMissing: 0,
    lastError: null as string | null,
  };

  const period = () => 1000 / rateHz;

  function releasePermit() {
    if (holdingPermit) {
      holdingPermit = false;
      deps.limiter?.release();
    }
  }

  function connect(now: number) {
    if (deps.limiter && !deps.limiter.tryAcquire()) return;
    holdingPermit = !!deps.limiter;
    state = 'connecting';
    const my = ++epoch;
    const c = connectFn(options.brokerUrl, {
      clientId: id,
      ...(options.tls?.cert ? {} : { username: id, password: options.secret }),
      ...(options.tls?.ca ? { ca: options.tls.ca } : {}),
      ...(options.tls?.cert && options.tls.key ? { cert: options.tls.cert, key: options.tls.key } : {}),
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 15_000,
      keepalive: options.keepaliveS ?? 30,
      resubscribe: false,
      will: {
        topic: topics.status,
        payload: Buffer.from(JSON.stringify({ online: false, ts: now })),
        qos: 1,
        retain: true,
      },
    });
    client = c;
    c.on('connect', () => {
      if (my !== epoch) return;
      releasePermit();
      state = 'online';
      stats.connects++;
      backoff = reconnectMin;
      publishStatus(c);
      // 'connected' once the broker confirmed the subscriptions: commands sent from then on arrive.
      // The retained confirmation (if any) comes with the subscription.
      c.subscribe([topics.commands, topics.errors, topics.confirmed], { qos: 1 }, () => {
        if (my === epoch) emitter.emit('connected');
      });
      pump();
      sendEvents();
    });
    c.on('message', (topic, payload, packet) => {
      if (my !== epoch) return;
      if (topic === topics.commands) onCommand(payload, packet.retain);
      else if (topic === topics.errors) onProtocolError(payload);
      else if (topic === topics.confirmed) onConfirmed(payload);
    });
    c.on('error', (err) => {
      if (my !== epoch) return;
      stats.lastError = err.message;
    });
    c.on('close', () => {
      if (my !== epoch) return;
      linkLost(state === 'connecting' ? 'connect failed' : 'connection closed');
    });
  }

  /** The connection is gone (or never came up): everything in flight becomes pending again. */
  function linkLost(reason: string) {
    const wasOnline = state === 'online';
    const wasConnecting = state === 'connecting';
    if (wasConnecting) stats.connectFailures++;
    releasePermit();
    epoch++;
    const c = client;
    client = null;
    if (c) {
      c.removeAllListeners('close');
      c.on('error', () => undefined);
      // Not now: this may run inside MQTT.js's own loop over the callbacks of messages in flight
      // (a publish failing on a keepalive timeout), and ending the client there breaks that loop.
      setImmediate(() => c.end(true));
    }
    buffer.resetInflight();
    sentAt.clear();
    if (state !== 'down' && state !== 'stopped') state = 'offline';
    const jitter = 0.5 + random();
    nextConnectAt = clock.now() + Math.round(backoff * jitter);
    backoff = Math.min(reconnectMax, backoff * 2);
    if (wasOnline) {
      log?.warn(`${id}: ${reason}; buffering`);
      emitter.emit('disconnected', reason);
    }
    if (wasConnecting) emitter.emit('connect-failed', stats.lastError ?? reason);
  }

  /** Closes the socket without DISCONNECT, as a cut link or a crash does (the broker sends the will). */
  function abort(reason: string) {
    const c = client;
    if (c) {
      const stream = (c as unknown as { stream?: { destroy(): void } }).stream;
      stream?.destroy();
    }
    if (client) linkLost(reason);
  }

  /** `status` (retained) with the buffer figures: online, frames not yet acknowledged, frames dropped when full. */
  function publishStatus(c: MqttClient) {
    const status: VehicleStatus = {
      online: true,
      ts: clock.now(),
      buffered: buffer.unacked(),
      dropped: buffer.dropped(),
    };
    statusDropped = status.dropped!;
    statusAt = status.ts;
    c.publish(topics.status, JSON.stringify(status), { qos: 1, retain: true });
  }

  function pump() {
    const c = client;
    if (!c || state !== 'online') return;
    while (buffer.inflightMessages() < maxInflight) {
      const msg = buffer.take(maxBatch);
      if (!msg) break;
      const my = epoch;
      const payload = msg.frames.length === 1 ? JSON.stringify(msg.frames[0]) : JSON.stringify({ frames: msg.frames });
      stats.messagesSent++;
      if (msg.frames.length > 1) stats.batchesSent++;
      if (msg.resend) stats.backfillFramesSent += msg.frames.length;
      sentAt.set(msg.id, realNow());
      c.publish(topics.telemetry, payload, { qos: 1 }, (err) => {
        if (my !== epoch) return; // that connection is gone; its frames were re-queued
        if (err) {
          stats.lastError = err.message;
          abort(`publish failed: ${err.message}`);
          return;
        }
        const t0 = sentAt.get(msg.id);
        sentAt.delete(msg.id);
        const acked = buffer.ack(msg.id);
        if (!msg.resend) stats.framesAcked += msg.frames.length;
        if (t0 !== undefined) deps.onAck?.(realNow() - t0, msg.frames.length);
        if (acked) emitter.emit('acked', acked);
        if (buffer.unacked() === 0) emitter.emit('drained');
        pump();
      });
    }
  }

  function sendEvents() {
    const c = client;
    if (!c || state !== 'online') return;
    while (events.length) {
      const e = events.shift()!;
      stats.eventsSent++;
      c.publish(topics.events, JSON.stringify(e), { qos: 1 });
    }
  }

  function queueEvent(e: VehicleEvent) {
    if (events.length >= MAX_EVENTS_QUEUED) events.shift();
    events.push(e);
  }

  function onCommand(payload: Buffer, retained: boolean) {
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch {
      log?.warn(`${id}: command is not JSON; ignored`);
      return;
    }
    const parsed = commandSchema.safeParse(value);
    if (!parsed.success) {
      const cmdId = (value as { id?: unknown })?.id;
      if (typeof cmdId === 'string' && cmdId.length > 0 && cmdId.length <= 64) {
        sendAck({
          id: cmdId,
          ts: clock.now(),
          ok: false,
          error: `invalid command: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        });
      }
      return;
    }
    const earlier = answered.get(parsed.data.id);
    if (earlier) {
      // a repeated id (a replay, or a re-delivery): the same answer, nothing executed twice
      stats.commandsRepeated++;
      sendAck(earlier);
      emitter.emit('command', parsed.data, earlier);
      return;
    }
    // a command kept by a broker (retained) is an old one delivered again: never executed
    const validity = retained ? COMMAND_RETAINED : commandValidity(parsed.data, realNow());
    if (validity !== 'ok') {
      stats.commandsExpired++;
      const ack: CommandAck = { id: parsed.data.id, ts: clock.now(), ok: false, error: validity };
      remember(ack);
      log?.warn(`${id}: command ${parsed.data.name} (${parsed.data.id}) refused: ${validity}`);
      sendAck(ack);
      emitter.emit('command', parsed.data, ack);
      return;
    }
    stats.commands++;
    model.advanceTo(clock.now());
    const outcome = executeCommand(parsed.data, {
      model,
      rateHz: () => rateHz,
      setRate(hz, durationS) {
        rateHz = hz ?? baseRate;
        rateUntil = hz === null || durationS === null ? null : clock.now() + durationS * 1000;
        nextSampleAt = Math.min(nextSampleAt, clock.now() + period());
      },
      snapshot() {
        const now = clock.now();
        const f = model.sample(now);
        stats.framesSampled++;
        buffer.push(f);
        pump();
        return f;
      },
      backfill(args) {
        const r = buffer.backfill(args);
        stats.backfillRequests++;
        for (const [from, to] of r.missing) stats.backfillMissing += to - from + 1;
        if (r.missing.length)
          log?.warn(
            `${id}: backfill ${args.fromSeq}–${args.toSeq}: ${r.missing.length} seq range(s) no longer buffered`,
          );
        return r;
      },
    });
    if (!outcome.ok) stats.commandsRefused++;
    const ack: CommandAck = outcome.ok
      ? { id: parsed.data.id, ts: clock.now(), ok: true, result: outcome.result }
      : { id: parsed.data.id, ts: clock.now(), ok: false, error: outcome.error.slice(0, 500) };
    remember(ack);
    sendAck(ack);
    emitter.emit('command', parsed.data, ack);
    pump(); // a backfill's frames follow its answer
  }

  function remember(ack: CommandAck) {
    answered.set(ack.id, ack);
    if (answered.size > COMMAND_IDS_REMEMBERED) answered.delete(answered.keys().next().value!);
  }

  /** `telemetry/confirmed`: frames up to there are stored at the platform and leave the buffer. */
  function onConfirmed(payload: Buffer) {
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const parsed = telemetryConfirmedSchema.safeParse(value);
    if (!parsed.success) return;
    const { seq, ts } = parsed.data;
    stats.confirmations++;
    const gone = buffer.confirm(seq, ts);
    emitter.emit('confirmed', { seq, ts, released: gone, held: buffer.size() });
  }

  function sendAck(ack: CommandAck) {
    client?.publish(topics.ack, JSON.stringify(ack), { qos: 1 });
  }

  function onProtocolError(payload: Buffer) {
    let e: ProtocolError;
    try {
      e = JSON.parse(payload.toString('utf8')) as ProtocolError;
    } catch {
      return;
    }
    stats.errorsReceived++;
    stats.errorsByCode[e.code] = (stats.errorsByCode[e.code] ?? 0) + 1;
    recentErrors.push(e);
    if (recentErrors.length > 20) recentErrors.shift();
    if (errorLogBudget > 0) {
      errorLogBudget--;
      log?.warn(
        `${id}: platform refused ${e.topic}${e.seq !== undefined ? ` seq ${e.seq}` : ''}: ${e.code}: ${e.message}`,
      );
    }
    emitter.emit('protocol-error', e);
  }

  function sample(now: number) {
    if (rateUntil !== null && now >= rateUntil) {
      rateHz = baseRate;
      rateUntil = null;
    }
    let n = 0;
    while (nextSampleAt <= now && n < MAX_SAMPLES_PER_TICK) {
      model.advanceTo(nextSampleAt);
      buffer.push(model.sample(nextSampleAt));
      stats.framesSampled++;
      nextSampleAt += period();
      n++;
    }
    if (nextSampleAt <= now) {
      const skip = Math.floor((now - nextSampleAt) / period()) + 1;
      stats.skippedSamples += skip;
      nextSampleAt += skip * period();
    }
    for (const e of model.drainEvents()) queueEvent(e);
  }

  function handleFaults(now: number) {
    for (const f of faults) {
      if (f.startTs > now) break;
      if (!faultStarted.has(f.id)) {
        faultStarted.add(f.id);
        if (f.name === 'link-loss') {
          linkDownUntil = f.endTs ?? Infinity;
          log?.info(`${id}: link lost (scenario ${f.id})`);
          abort('link lost');
        } else if (f.name === 'gateway-reboot') {
          const p = f.params as { downS: number; seq: 'auto' | 'continue' | 'restart' };
          rebootSeqRule = p.seq;
          powerOff(now + p.downS * 1000);
        }
      }
      if (f.name === 'link-loss' && f.endTs !== null && now >= f.endTs && !faultEnded.has(f.id)) {
        faultEnded.add(f.id);
        if (linkDownUntil <= now) nextConnectAt = now;
      }
    }
  }

  function powerOff(until: number) {
    log?.info(`${id}: gateway rebooting`);
    abort('gateway reboot');
    state = 'down';
    bootAt = until;
    journal?.flush(model.nextSeq, () => buffer.snapshot());
    if (!journal) stats.lostOnReboot += buffer.unacked(); // acknowledged ones are stored already
    events.length = 0;
  }

  function boot(now: number) {
    const persistent = !!journal;
    journal = makeJournal();
    const rule = rebootSeqRule === 'auto' ? (persistent ? 'continue' : 'restart') : rebootSeqRule;
    buffer = boot0();
    if (rule === 'restart' && !persistent) model.nextSeq = 0;
    state = 'offline';
    nextConnectAt = now;
    backoff = reconnectMin;
    model.advanceTo(now);
    nextSampleAt = now;
    queueEvent({
      ts: now,
      code: 'GATEWAY_BOOT',
      severity: 'info',
      message: `gateway restarted; seq ${rule === 'restart' ? 'restarts at 0' : `continues at ${model.nextSeq}`}`,
    });
    emitter.emit('booted');
  }

  return {
    vehicleId: id,
    model,
    on(
      event:
        | 'connected'
        | 'connect-failed'
        | 'disconnected'
        | 'acked'
        | 'drained'
        | 'confirmed'
        | 'protocol-error'
        | 'command'
        | 'booted',
      listener: (...args: never[]) => void,
    ) {
      emitter.on(event, listener as (...args: unknown[]) => void);
      return () => emitter.off(event, listener as (...args: unknown[]) => void);
    },
    /** Starts sampling at the clock's current time (plus the phase offset) and connecting. */
    start() {
      if (state !== 'idle') return;
      const now = clock.now();
      nextSampleAt = now + (options.phaseMs ?? 0);
      nextConnectAt = now;
      state = 'offline';
    },
    /** Moves the gateway to the clock's time: faults, sampling, connection, sending. */
    tick(now: number = clock.now()) {
      if (state === 'idle' || state === 'stopped') return;
      handleFaults(now);
      if (state === 'down') {
        if (now < bootAt) {
          model.advanceTo(now);
          model.drainEvents();
          return;
        }
        boot(now);
      }
      sample(now);
      if (!client && now >= nextConnectAt && now >= linkDownUntil) connect(now);
      if (
        client &&
        state === 'online' &&
        buffer.dropped() !== statusDropped &&
        now - statusAt >= STATUS_MIN_INTERVAL_MS
      )
        publishStatus(client);
      pump();
      sendEvents();
      buffer.flush(model.nextSeq);
    },
    /** Cuts the link now for `ms` of simulated time (Infinity until restoreLink). */
    cutLink(ms: number = Infinity) {
      linkDownUntil = clock.now() + ms;
      abort('link lost');
    },
    restoreLink() {
      linkDownUntil = 0;
      nextConnectAt = clock.now();
    },
    /** Stops sampling; resolves once every frame is acknowledged or after `timeoutMs` of wall time, whichever first. */
    drain(timeoutMs: number): Promise<boolean> {
      if (buffer.unacked() === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          off();
          resolve(buffer.unacked() === 0);
        }, timeoutMs);
        const off = this.on('drained', () => {
          clearTimeout(timer);
          off();
          resolve(true);
        });
      });
    },
    /** Announces `online:false` (retained) and disconnects cleanly. */
    async stop(): Promise<void> {
      if (state === 'stopped') return;
      buffer.flush(model.nextSeq);
      const c = client;
      const wasOnline = state === 'online';
      state = 'stopped';
      epoch++;
      client = null;
      releasePermit();
      if (!c) return;
      if (wasOnline) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 2000);
          c.publish(topics.status, JSON.stringify({ online: false, ts: clock.now() }), { qos: 1, retain: true }, () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      await c.endAsync(!wasOnline).catch(() => undefined);
    },
    state: () => state,
    /** Frames the broker acknowledged so far (what `stats().framesAcked` gives, without the rest). */
    framesAcked: () => stats.framesAcked,
    stats(): GatewayStats {
      return {
        state,
        ...stats,
        buffered: buffer.unacked(),
        unconfirmed: buffer.unconfirmed(),
        inflight: buffer.inflightFrames(),
        dropped: buffer.dropped(),
        releasedUnconfirmed: buffer.released(),
        confirmed: buffer.confirmed(),
        activeFaults: [
          ...model.activeFaults(),
          ...faults
            .filter(
              (f) =>
                f.startTs <= clock.now() &&
                (f.endTs === null ? f.name === 'gateway-reboot' && state === 'down' : clock.now() < f.endTs),
            )
            .map((f) => f.name),
        ],
      };
    },
    recentErrors: (): readonly ProtocolError[] => recentErrors,
    /** Frames held, oldest first: unconfirmed, in flight and pending (tests, tools). */
    heldFrames: () => buffer.snapshot(),
    rateHz: () => rateHz,
    /** Adds a gateway-side fault (link-loss, gateway-reboot) at run time. */
    addFault(f: PlannedFault) {
      faults.push(f);
      faults.sort((a, b) => a.startTs - b.startTs);
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
