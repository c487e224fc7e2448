// first: the modules loaded after it get a `debug` that costs nothing while disabled
import '../core/quiet-debug.ts';
import { createLogger } from '../core/logger.ts';
import { isPlatformError } from '../core/errors.ts';
import { loadConfigOrExit } from './startup.ts';
import { createPlatform, type Platform } from './platform.ts';

/** `npm start`: the platform in one process on its embedded defaults. */
async function main() {
  const config = loadConfigOrExit(process.env);
  const log = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  let platform: Platform;
  try {
    platform = await createPlatform(config, { log });
  } catch (err) {
    // a file the configuration names (RULES_FILE, PLANS_FILE) refused: its message names the place;
    // like a bad setting, it stops the start with that message and exit code 2
    if (!isPlatformError(err)) throw err;
    console.error(err.message);
    log.flush();
    process.exit(2);
  }
  try {
    await platform.start();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      const e = err as NodeJS.ErrnoException & { port?: number };
      log.fatal(
        `port ${e.port ?? ''} is already in use (another MQTT broker or server?); set MQTT_PORT / HTTP_PORT to a free port`,
      );
    } else log.fatal({ err }, 'platform failed to start');
    await platform.stop().catch(() => undefined);
    log.flush();
    process.exit(1);
  }
  let signals = 0;
  // A promise rejected with nobody to hear it is a bug: the process ends, as Node's default does, with
  // the reason logged. Except while stopping: a library's command still queued on a connection the
  // stop has just closed (seen with Redis in cluster mode under load) must not cut the drain short.
  process.on('unhandledRejection', (reason) => {
    if (signals > 0) {
      log.warn({ err: reason }, 'a promise rejected while stopping (a connection closed under it): the stop goes on');
      return;
    }
    log.fatal({ err: reason }, 'unhandled promise rejection');
    log.flush();
    process.exit(1);
  });
  const shutdown = (signal: string) => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal, drainTimeoutMs: config.DRAIN_TIMEOUT_MS }, 'shutting down');
    // the drain is bounded: past DRAIN_TIMEOUT_MS the process ends anyway (exit 1, what is not
    // committed was not acknowledged either); an orchestrator's grace period should exceed it
    setTimeout(() => {
      log.error({ drainTimeoutMs: config.DRAIN_TIMEOUT_MS }, 'drain timed out: exiting now');
      log.flush();
      process.exit(1);
    }, config.DRAIN_TIMEOUT_MS).unref();
    platform
      .stop()
      .then(() => {
        log.flush();
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
