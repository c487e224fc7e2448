import WebSocket from 'ws';

/**
 * A minimal Chrome DevTools protocol client over a Node inspector's WebSocket (the URL a process
 * started with `--inspect` prints): calls, and the events of one method at a time.
 */
export async function inspectorSession(url: string) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, (params: unknown) => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as {
      id?: number;
      method?: string;
      params?: unknown;
      result?: unknown;
      error?: { message: string };
    };
    if (m.method !== undefined) listeners.get(m.method)?.(m.params);
    if (m.id === undefined) return;
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error) w?.reject(new Error(m.error.message));
    else w?.resolve(m.result);
  });
  ws.on('close', () => {
    for (const w of waiting.values()) w.reject(new Error('inspector closed'));
    waiting.clear();
  });
  return {
    call<T>(method: string, params: object = {}): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    /** Hears the events of `method` (one listener per method; none: stop hearing them). */
    on(method: string, listener?: (params: unknown) => void): void {
      if (listener) listeners.set(method, listener);
      else listeners.delete(method);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
}
