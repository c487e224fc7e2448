import { isPlatformError } from '../core/errors.ts';
import { loadConfig, type PlatformConfig } from './config.ts';

/** For the entry points: the validated configuration, or the list of bad values and exit code 2. */
export function loadConfigOrExit(env: Record<string, string | undefined>): PlatformConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (isPlatformError(err, 'CONFIG_INVALID')) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}
