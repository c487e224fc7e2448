/**
 * The console built once for all the browser tests of a run (and of the next runs while its sources
 * stay the same), instead of one Vite build per test file: each build costs ~15 s of a CPU.
 *
 * The build lists the files it was made from (Vite's module ids) with their SHA-256; the next caller
 * reuses the build when every one of them is unchanged (a new import needs a changed importer, so a
 * build that would differ always has a changed input). Test workers may build at the same moment:
 * each writes its own directory and the manifest is replaced atomically, so any manifest read names
 * a complete build. Builds no manifest names are removed after an hour.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Rollup } from 'vite';

const CONFIG_FILE = fileURLToPath(new URL('../../web/console/vite.config.ts', import.meta.url));
/** One cache per checkout: another clone's build (a CI run beside a working copy) is never taken for this one's. */
const CACHE = join(
  tmpdir(),
  `pw-console-builds-${createHash('sha256').update(CONFIG_FILE).digest('hex').slice(0, 12)}`,
);
const MANIFEST = join(CACHE, 'manifest.json');
const STALE_MS = 60 * 60_000;

interface Manifest {
  dir: string;
  inputs: Record<string, string>;
}

function sha(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

function readManifest(): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

function isCurrent(m: Manifest | undefined): m is Manifest {
  if (!m || !existsSync(join(m.dir, 'index.html'))) return false;
  return Object.entries(m.inputs).every(([file, hash]) => sha(file) === hash);
}

/** The files a build was made from: its modules that are files (not Vite's virtual ones), and its config. */
function inputsOf(output: Rollup.RollupOutput | Rollup.RollupOutput[]): Record<string, string> {
  const files = new Set<string>([
    CONFIG_FILE,
    join(fileURLToPath(new URL('../../web/console/', import.meta.url)), 'index.html'),
  ]);
  for (const o of Array.isArray(output) ? output : [output])
    for (const chunk of o.output)
      if (chunk.type === 'chunk')
        for (const id of chunk.moduleIds) {
          const file = id.split('?')[0]!;
          if (!file.startsWith('\0') && existsSync(file)) files.add(file);
        }
  return Object.fromEntries([...files].map((f) => [f, sha(f) ?? '']));
}

function removeStale(keep: string): void {
  for (const name of readdirSync(CACHE)) {
    const path = join(CACHE, name);
    if (path === keep || !name.startsWith('build-')) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // another worker removed it
    }
  }
}

/** The directory of a console build made from the current sources (built now when there is none). */
export async function consoleBuild(): Promise<string> {
  const found = readManifest();
  if (isCurrent(found)) return found.dir;
  mkdirSync(CACHE, { recursive: true });
  const dir = join(CACHE, `build-${process.pid}-${randomBytes(4).toString('hex')}`);
  const output = await build({
    configFile: CONFIG_FILE,
    logLevel: 'warn',
    build: { outDir: dir, emptyOutDir: true, sourcemap: false },
  });
  if (!('output' in output) && !Array.isArray(output)) throw new Error('the console build did not return its output');
  const manifest: Manifest = { dir, inputs: inputsOf(output) };
  const tmp = `${MANIFEST}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, JSON.stringify(manifest));
  renameSync(tmp, MANIFEST);
  removeStale(dir);
  return dir;
}
