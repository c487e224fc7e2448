import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFlagsOfStart, platformNodeFlags } from '../../bench/platform-process.ts';

const ROOT = join(import.meta.dirname, '../..');

/** The image's command (the Dockerfile's last exec-form CMD) as words. */
function imageCommand(): string[] {
  const cmds = [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^CMD (\[.*\])$/gm)];
  return JSON.parse(cmds.at(-1)![1]!) as string[];
}

/** Runs this Node.js with `args`; rejects with its stderr when it exits non-zero. */
function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
  });
}

/** Threads of a Node.js process started with `flags` (Linux: /proc/<pid>/task), counted from inside it. */
async function threadsWith(flags: string[]): Promise<number> {
  const { stdout } = await run([...flags, '-e', "console.log(require('fs').readdirSync('/proc/self/task').length)"]);
  return Number(stdout.trim());
}

/**
 * The platform runs with V8's helper threads one fewer than the cores (`--v8-pool-size=0`) and
 * without allocation-site pretenuring (`--no-allocation-site-pretenuring`): docs/architecture.md,
 * "Build and run"; the measurements in docs/benchmarks.md.
 */
describe('how the platform is started', () => {
  it('npm start and the Docker image give node the same flags, the benches read them from npm start', () => {
    const image = imageCommand();
    expect(image[0]).toBe('node');
    expect(image.at(-1)).toBe('dist/platform/main.js');
    const flags = platformNodeFlags(ROOT);
    expect(flags).toContain('--v8-pool-size=0');
    expect(flags).toContain('--no-allocation-site-pretenuring');
    expect(image.slice(1, -1)).toEqual(flags);
  });

  it('this Node.js takes every flag npm start gives it (an unknown V8 flag stops node at start)', async () => {
    const flags = platformNodeFlags(ROOT);
    const { stdout, stderr } = await run([...flags, '-e', 'console.log(JSON.stringify(process.execArgv))']);
    expect(stderr).toBe('');
    expect((JSON.parse(stdout) as string[]).slice(0, flags.length)).toEqual(flags);
    // the check itself: a flag V8 does not know is refused
    await expect(run(['--no-such-v8-flag-here', '-e', '0'])).rejects.toThrow(/bad option/);
  });

  it('reads the flags of a start command of the shape node <flags> dist/platform/main.js, none otherwise', () => {
    expect(nodeFlagsOfStart('node --v8-pool-size=0 dist/platform/main.js')).toEqual(['--v8-pool-size=0']);
    expect(nodeFlagsOfStart('  node  --a   --b=1 dist/platform/main.js ')).toEqual(['--a', '--b=1']);
    expect(nodeFlagsOfStart('node dist/platform/main.js')).toEqual([]);
    // an older checkout's start (before the build), or something else
    expect(nodeFlagsOfStart('tsx platform/main.ts')).toEqual([]);
    expect(nodeFlagsOfStart('node --a dist/platform/other.js')).toEqual([]);
    expect(nodeFlagsOfStart('node script.js dist/platform/main.js')).toEqual([]);
  });

  it.runIf(process.platform === 'linux')(
    '--v8-pool-size=0 leaves V8 one helper thread fewer than the cores (at least one) instead of four',
    async () => {
      const [byDefault, sized] = await Promise.all([threadsWith([]), threadsWith(['--v8-pool-size=0'])]);
      // Node's default pool is 4 helpers; 0 asks for the available parallelism minus one (node_platform.cc)
      expect(byDefault - sized).toBe(4 - Math.max(1, availableParallelism() - 1));
    },
  );
});
