import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, HTTP_STATUS } from '../../web/errors.ts';
import { startWeb, type TestWeb } from './helpers.ts';

const apiDoc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');

describe('the OpenAPI document and docs/api.md', () => {
  let w: TestWeb;
  let doc: {
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        {
          tags?: string[];
          summary?: string;
          parameters?: { name: string; in: string }[];
          requestBody?: unknown;
          responses: Record<string, unknown>;
        }
      >
    >;
    components: { schemas: Record<string, unknown> };
  };
  beforeAll(async () => {
    w = await startWeb();
    const res = await w.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    doc = res.json();
  });
  afterAll(async () => w.close());

  it('is OpenAPI 3.1, lists the routes with summaries, parameters, bodies and responses', () => {
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.entries(doc.paths).flatMap(([path, o]) =>
      Object.entries(o).map(([m, op]) => ({ id: `${m.toUpperCase()} ${path}`, op })),
    );
    expect(ops.length).toBeGreaterThanOrEqual(38);
    for (const { id, op } of ops) {
      expect(op.summary, id).toBeTruthy();
      expect(op.tags?.length, id).toBeGreaterThan(0);
    }
    const telemetry = doc.paths['/api/vehicles/{id}/telemetry']!.get!;
    expect(telemetry.parameters!.map((p) => `${p.in}:${p.name}`).sort()).toEqual([
      'path:id',
      'query:fields',
      'query:from',
      'query:maxPoints',
      'query:to',
    ]);
    expect(Object.keys(telemetry.responses).sort()).toEqual(['200', '400', '401', '403', '404']);
    expect(doc.paths['/api/tickets']!.post!.requestBody).toBeDefined();
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'Ticket',
        'Alarm',
        'VehicleState',
        'Series',
        'Account',
        'Session',
        'EmergencyPlan',
        'Error',
      ]),
    );
  });

  it('serves the interactive docs at /docs without login', async () => {
    const res = await w.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
  });

  it('docs/api.md names every route and every error code with its HTTP status', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const m of Object.keys(ops))
        expect(apiDoc, `${m.toUpperCase()} ${path}`).toContain(
          `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
        );
    }
    for (const code of ERROR_CODES)
      expect(apiDoc, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${HTTP_STATUS[code]} \\|`));
  });
});
