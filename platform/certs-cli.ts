import { CERTS_USAGE, runCerts } from './certs.ts';

/** `npm run certs -- ca|vehicle|server …`: see platform/certs.ts. */
const argv = process.argv.slice(2);
if (!argv.length || argv.includes('--help') || argv.includes('-h')) {
  console.log(CERTS_USAGE);
  process.exit(argv.length ? 0 : 2);
}
try {
  for (const line of runCerts(argv)) console.log(line);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
