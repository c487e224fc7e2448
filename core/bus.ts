import type { Logger } from './logger.ts';

export type Listener<T> = (payload: T) => void | Promise<void>;

/**
 * A typed event bus joining the platform's stages. Stages never import each other; they emit and
 * listen here. The in-process implementation below is the embedded default; the interface is
 * small enough to be carried over MQTT or Redis pub/sub when stages run in separate processes.
 */
export interface EventBus<Events extends object> {
  emit<K extends keyof Events & string>(event: K, payload: Events[K]): void;
  on<K extends keyof Events & string>(event: K, listener: Listener<Events[K]>): () => void;
  listenerCount(event: keyof Events & string): number;
}

/** In-process bus: listeners run synchronously in order; a failing listener is logged, never fatal. */
export function createInProcessBus<Events extends object>(log: Logger): EventBus<Events> {
  const listeners = new Map<string, Set<Listener<never>>>();

  const report = (event: string, err: unknown) => {
    log.error({ err, event }, 'bus listener failed');
  };

  return {
    emit(event, payload) {
      const set = listeners.get(event);
      if (!set) return;
      for (const listener of set) {
        try {
          const result = (listener as Listener<typeof payload>)(payload);
          if (result && typeof (result as Promise<void>).catch === 'function') {
            (result as Promise<void>).catch((err: unknown) => report(event, err));
          }
        } catch (err) {
          report(event, err);
        }
      }
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as Listener<never>);
      return () => {
        set.delete(listener as Listener<never>);
      };
    },
    listenerCount(event) {
      return listeners.get(event)?.size ?? 0;
    },
  };
}

/**
 * One listening view over two buses: a listener hears the events of `local` and those of `remote`
 * (cluster mode: the events other nodes relayed, cluster/event-relay.ts). Emitting goes to `local`
 * only. Given to the parts that must hear an event wherever in the cluster it happened and act on it
 * only here (the live layer's fan-out, a command's ack waiter); the stages that record or act on an
 * event keep the local bus, so an event is never processed twice in the cluster.
 */
export function mergeBuses<Events extends object>(
  local: EventBus<Events>,
  remote: Pick<EventBus<Events>, 'on' | 'listenerCount'>,
): EventBus<Events> {
  return {
    emit: (event, payload) => local.emit(event, payload),
    on(event, listener) {
      const offLocal = local.on(event, listener);
      const offRemote = remote.on(event, listener);
      return () => {
        offLocal();
        offRemote();
      };
    },
    listenerCount: (event) => local.listenerCount(event) + remote.listenerCount(event),
  };
}
