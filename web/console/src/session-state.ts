/**
 * One remote session as the console follows it: the session and the part this account plays, its
 * timeline (kept in sessionStorage so that a reload rejoins with `sinceSeq` and keeps what it had),
 * the guided steps, and the vehicle's frames at the full rate in a sliding 5-minute window (seeded
 * from the telemetry history, then every `remote.frames`).
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.ts';
import { appendFrames, columnsFromSeries, emptyColumns, type Columns } from './charts.ts';
import { joinSession, onLive } from './live.ts';
import { SESSION_FIELDS, SESSION_WINDOW_MS } from './session-charts.ts';
import { isGuest, viewerId } from './session.ts';
import type { RemoteSession, Series, TelemetryFrame } from './types.ts';
import type { ParticipantRole, SessionTimelineEntry } from '../../../remote/types.ts';

export type { SessionTimelineEntry };

/** GET /api/sessions/:id/steps (web/routes/session-steps.ts). */
export interface SessionStep {
  index: number;
  stepId: string | null;
  actor: 'crew' | 'engineer';
  instruction: { en: string; zh: string };
  expect: { condition: unknown; withinS: number; text: string } | null;
  command: { name: string; args: Record<string, unknown> } | null;
  safety: { en: string; zh: string } | null;
  status: 'pending' | 'current' | 'checking' | 'failed' | 'done' | 'passed' | 'skipped';
  addedBy: string | null;
  checkUntil: number | null;
  results: {
    status: string;
    actor: string;
    at: number;
    observation: string | null;
    reason?: string | null | undefined;
    evidence: { condition: string; values: Record<string, unknown>; frameTs: number | null } | null;
  }[];
}
export interface SessionSteps {
  current: number | null;
  steps: SessionStep[];
}

export interface RemoteSessionState {
  session: RemoteSession | null;
  role: ParticipantRole | null;
  timeline: SessionTimelineEntry[];
  steps: SessionSteps | null;
  cols: Columns;
  latest: TelemetryFrame | null;
  error: string | null;
  /** The steps as this console's own change answered them. */
  setSteps: (s: SessionSteps) => void;
  /** Timeline entries this console's own request answered with (the socket brings them too). */
  addEntries: (e: SessionTimelineEntry[]) => void;
  setSession: (s: RemoteSession) => void;
}

/** Per account too: a tab signed in again as someone else (crew and staff copies differ) starts afresh. */
const storeKey = (id: number) => `pw.remote.${viewerId()}.${id}`;

function stored(id: number): SessionTimelineEntry[] {
  try {
    const raw = sessionStorage.getItem(storeKey(id));
    return raw ? (JSON.parse(raw) as SessionTimelineEntry[]) : [];
  } catch {
    return [];
  }
}

function merge(a: SessionTimelineEntry[], b: SessionTimelineEntry[]): SessionTimelineEntry[] {
  const bySeq = new Map(a.map((e) => [e.seq, e]));
  for (const e of b) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq);
}

export function useRemoteSession(id: number): RemoteSessionState {
  const [session, setSession] = useState<RemoteSession | null>(null);
  const [role, setRole] = useState<ParticipantRole | null>(null);
  const [timeline, setTimeline] = useState<SessionTimelineEntry[]>(() => stored(id));
  const [steps, setSteps] = useState<SessionSteps | null>(null);
  const [cols, setCols] = useState<Columns>(() => emptyColumns(SESSION_FIELDS));
  const [latest, setLatest] = useState<TelemetryFrame | null>(null);
  const [error, setError] = useState<string | null>(null);
  const keeper = useRef<(e: SessionTimelineEntry[]) => void>(() => undefined);

  useEffect(() => {
    let alive = true;
    let entries = stored(id);
    const keep = (more: SessionTimelineEntry[]) => {
      entries = merge(entries, more);
      try {
        sessionStorage.setItem(storeKey(id), JSON.stringify(entries));
      } catch {
        // not kept: a reload reads the whole timeline again
      }
      if (alive) setTimeline(entries);
    };
    keeper.current = keep;
    // a guest reads the session, its timeline, steps and photos (no vehicle history: live values only)
    const guest = isGuest();
    const loadSteps = () =>
      api.get<SessionSteps>(`/api/sessions/${id}/steps`).then(
        (s) => alive && setSteps(s),
        () => undefined,
      );

    // frames that arrive before the history is in are appended after it
    const pending: TelemetryFrame[] = [];
    let seeded = false;
    let vehicleId: string | null = null;
    const seed = (vid: string) => {
      if (vehicleId) return;
      if (guest) {
        seeded = true;
        return;
      }
      vehicleId = vid;
      const to = Date.now();
      api
        .get<Series>(`/api/vehicles/${encodeURIComponent(vid)}/telemetry`, {
          from: to - SESSION_WINDOW_MS,
          to: to + 60_000,
          maxPoints: 5000,
        })
        .then(
          (s) =>
            alive &&
            setCols(
              appendFrames(columnsFromSeries(s, SESSION_FIELDS), pending.splice(0), SESSION_WINDOW_MS, SESSION_FIELDS),
            ),
          () => alive && setCols((c) => appendFrames(c, pending.splice(0), SESSION_WINDOW_MS, SESSION_FIELDS)),
        )
        .finally(() => (seeded = true));
    };

    const offs = [
      onLive('remoteFrames', (m) => {
        if (m.sessionId !== id || !m.frames.length) return;
        setLatest(m.frames[m.frames.length - 1]!);
        if (!seeded) return void pending.push(...m.frames);
        setCols((c) => appendFrames(c, m.frames, SESSION_WINDOW_MS, SESSION_FIELDS));
      }),
      onLive('remoteTimeline', (m) => m.sessionId === id && keep([m.entry])),
      onLive('remoteChanged', (m) => m.sessionId === id && setSession(m.session)),
      onLive('remoteStep', (m) => m.sessionId === id && void loadSteps()),
    ];
    const leave = joinSession(
      id,
      () => (entries.length ? entries[entries.length - 1]!.seq : -1),
      (j) => {
        if (!alive) return;
        setSession(j.session);
        setRole(j.role);
        setError(null);
        keep(j.timeline);
        seed(j.session.vehicleId);
        void loadSteps();
      },
      (_code, message) => alive && setError(message),
    );
    return () => {
      alive = false;
      for (const off of offs) off();
      leave();
    };
  }, [id]);

  const addEntries = useCallback((e: SessionTimelineEntry[]) => keeper.current(e), []);
  return { session, role, timeline, steps, cols, latest, error, setSteps, setSession, addEntries };
}
