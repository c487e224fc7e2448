import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/**
 * Serves the console's single-page app (built by `npm run build:console` into dist/console) at `/`.
 * File names under assets/ carry a content hash, so they are cached for good; index.html is
 * revalidated on every load so a new build is picked up at once. Without a build, `/` answers 503
 * with the command that makes one, and the API keeps working.
 *
 * `/guest` (an invited guest's page, `/guest#token=…`) is the same app: index.html, public, and
 * `no-store` — the token is in the fragment, which never reaches the server, but the page that reads
 * it is not kept either.
 */
export function consoleStatic(dir: string | undefined): FastifyPluginAsync {
  return async (app) => {
    if (!dir || !existsSync(join(dir, 'index.html'))) {
      app.log.warn({ dir }, 'console not built: the API runs, the browser app is missing (npm run build:console)');
      app.get('/', { schema: { hide: true } }, async (_req, reply) =>
        reply
          .code(503)
          .type('text/html; charset=utf-8')
          .send(
            '<!doctype html><meta charset="utf-8"><title>PowerWatch</title><p>The console has not been built. Run <code>npm run build:console</code> and reload. The API is at <a href="/docs">/docs</a>.</p>',
          ),
      );
      return;
    }
    const index = join(dir, 'index.html');
    app.get('/guest', { schema: { hide: true } }, async (_req, reply) =>
      reply
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(await readFile(index)),
    );
    await app.register(fastifyStatic, {
      root: dir,
      prefix: '/',
      index: ['index.html'],
      decorateReply: false,
      cacheControl: false,
      setHeaders(res, path) {
        res.setHeader(
          'cache-control',
          path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
        );
      },
    });
  };
}
