import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type Verifier = (
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string | Buffer,
  toleranceS?: number,
  nowMs?: number,
) => boolean;

/**
 * The copy-paste verifier of docs/notifications.md ("Webhook signature"), taken from the document
 * itself and imported as a module: the tests check deliveries with exactly the code receivers copy.
 */
export async function docsVerifier(): Promise<Verifier> {
  const doc = readFileSync(new URL('../../docs/notifications.md', import.meta.url), 'utf8');
  const block = /<!-- verifier -->\s*```js\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/notifications.md has no verifier block');
  const dir = mkdtempSync(join(tmpdir(), 'pw-verifier-'));
  const file = join(dir, 'verify.mjs');
  writeFileSync(file, block);
  try {
    const mod = (await import(pathToFileURL(file).href)) as { verifyPowerwatchWebhook: Verifier };
    return mod.verifyPowerwatchWebhook;
  } finally {
    rmSync(dir, { recursive: true, force: true }); // the module is loaded: the file is no longer needed
  }
}
