import type { EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';

/** The measurement alarms and ticket events become in the InfluxDB bucket (Grafana annotations). */
export const INFLUX_EVENTS_MEASUREMENT = 'events';

/** The kinds of event written (the `kind` tag); Grafana's annotations filter on them (grafana/dashboards). */
export const INFLUX_EVENT_KINDS = [
  'alarm_raised',
  'alarm_cleared',
  'ticket_opened',
  'ticket_updated',
  'ticket_deadline_breached',
] as const;
/** The tags of an event line (unit and vehicle only when the event has them). */
export const INFLUX_EVENT_TAGS = ['kind', 'level', 'unit', 'vehicle'] as const;
/** The fields of an event line. */
export const INFLUX_EVENT_FIELDS = ['id', 'value', 'text'] as const;

/** What an event line says: tags kind/vehicle/level (+ unit), fields id and a text. */
export interface InfluxEvent {
  kind: (typeof INFLUX_EVENT_KINDS)[number];
  vehicle: string | null;
  unit: string | null;
  level: string;
  /** The alarm's or ticket's id. */
  id: number;
  text: string;
  at: number;
}

const escapeTag = (s: string) => s.replace(/[\\,= \n]/g, (c) => (c === '\n' ? ' ' : `\\${c}`));
const escapeString = (s: string) => s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, ' ');

/** One event as a line of InfluxDB's line protocol (ms): `events,kind=…,level=…,vehicle=… id=12i,value=1i,text="…" ts`. */
export function eventLine(e: InfluxEvent): string {
  let line = `${INFLUX_EVENTS_MEASUREMENT},kind=${e.kind},level=${escapeTag(e.level)}`;
  if (e.unit) line += `,unit=${escapeTag(e.unit)}`;
  if (e.vehicle) line += `,vehicle=${escapeTag(e.vehicle)}`;
  return `${line} id=${e.id}i,value=1i,text="${escapeString(e.text.slice(0, 500))}" ${e.at}`;
}

export interface InfluxEventsOptions {
  /** Events held while the server does not answer; beyond, the oldest are dropped (counted). */
  maxQueued: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

/**
 * Alarms (告警) and ticket (工单) events to the InfluxDB bucket as the `events` measurement, for
 * Grafana annotations over the telemetry. Best effort, unlike the frame export: the events are queued
 * in memory and written in order, retried with backoff while the server is down (up to `maxQueued`,
 * then the oldest are dropped and counted in `influx.events_dropped`); a restart loses what was
 * queued. The records database stays the record of alarms and tickets.
 */
export function createInfluxEvents(
  deps: {
    bus: EventBus<PlatformEvents>;
    write: (body: string) => Promise<void>;
    counters: Counters;
    log: Logger;
    now?: () => number;
  },
  options: InfluxEventsOptions,
) {
  const { bus, counters, log } = deps;
  const now = deps.now ?? Date.now;
  const queue: string[] = [];
  const offs: (() => void)[] = [];
  let sending: Promise<void> | undefined;
  let stopped = true;
  let backoff = options.backoffMinMs;
  let retry: NodeJS.Timeout | undefined;

  function push(e: InfluxEvent): void {
    queue.push(eventLine(e));
    if (queue.length > options.maxQueued) {
      queue.shift();
      counters.inc('influx.events_dropped');
    }
    flush();
  }

  function flush(): void {
    if (stopped || sending || retry || !queue.length) return;
    const batch = queue.slice(0, 1000);
    sending = deps
      .write(batch.join('\n'))
      .then(
        () => {
          queue.splice(0, batch.length);
          counters.inc('influx.events_exported', undefined, batch.length);
          backoff = options.backoffMinMs;
        },
        (err: unknown) => {
          counters.inc('influx.events_failed');
          log.warn({ err, queued: queue.length, retryInMs: backoff }, 'InfluxDB events write failed: retrying');
          retry = setTimeout(() => {
            retry = undefined;
            flush();
          }, backoff);
          retry.unref();
          backoff = Math.min(backoff * 2, options.backoffMaxMs);
        },
      )
      .finally(() => {
        sending = undefined;
        flush();
      });
  }

  return {
    start(): void {
      if (!stopped) return;
      stopped = false;
      offs.push(
        bus.on('alarm.raised', ({ alarm }) =>
          push({
            kind: 'alarm_raised',
            vehicle: alarm.vehicleId,
            unit: alarm.customerId,
            level: alarm.severity,
            id: alarm.id,
            text: `${alarm.code} ${alarm.title.en} / ${alarm.title.zh}`,
            at: alarm.raisedAt,
          }),
        ),
        bus.on('alarm.cleared', ({ alarm }) =>
          push({
            kind: 'alarm_cleared',
            vehicle: alarm.vehicleId,
            unit: alarm.customerId,
            level: alarm.severity,
            id: alarm.id,
            text: `${alarm.code} cleared`,
            at: alarm.clearedAt ?? now(),
          }),
        ),
        bus.on('ticket.opened', ({ ticket }) =>
          push({
            kind: 'ticket_opened',
            vehicle: ticket.vehicleId,
            unit: ticket.customerId,
            level: ticket.level,
            id: ticket.id,
            text: `${ticket.number} ${ticket.title}`,
            at: ticket.receivedAt,
          }),
        ),
        bus.on('ticket.updated', ({ ticket, action }) =>
          push({
            kind: 'ticket_updated',
            vehicle: ticket.vehicleId,
            unit: ticket.customerId,
            level: ticket.level,
            id: ticket.id,
            text: `${ticket.number} ${action} (${ticket.status})`,
            at: now(),
          }),
        ),
        bus.on('ticket.deadline_breached', ({ ticket, deadline }) =>
          push({
            kind: 'ticket_deadline_breached',
            vehicle: ticket.vehicleId,
            unit: ticket.customerId,
            level: ticket.level,
            id: ticket.id,
            text: `${ticket.number} ${deadline} deadline breached`,
            at: now(),
          }),
        ),
      );
    },
    async stop(): Promise<void> {
      stopped = true;
      for (const off of offs.splice(0)) off();
      if (retry) clearTimeout(retry);
      retry = undefined;
      await sending;
    },
    /** Events waiting to be written. */
    queued: () => queue.length,
    /** Resolves once nothing is queued or in flight (tests, tools). */
    async drained(): Promise<void> {
      while (queue.length || sending) await (sending ?? new Promise((r) => setTimeout(r, 20)));
    },
  };
}
