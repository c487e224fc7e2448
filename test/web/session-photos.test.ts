import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';

/** A PNG signature and IHDR chunk, then filler: the type check reads the bytes, nothing else. */
const png = (size = 64) => {
  const b = Buffer.alloc(size, 7);
  Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').copy(b);
  return b;
};
const jpeg = (size = 64) => {
  const b = Buffer.alloc(size, 9);
  Buffer.from('ffd8ffe000104a464946', 'hex').copy(b);
  return b;
};
const webp = (size = 64) => {
  const b = Buffer.alloc(size, 5);
  Buffer.from('RIFF').copy(b);
  Buffer.from('WEBPVP8 ').copy(b, 8);
  return b;
};

describe('session photos over HTTP', () => {
  let w: TestWeb;
  let crew: Agent;
  let engineer: Agent;
  let other: Agent;
  let session: number;
  const upload = (a: Agent, bytes: Buffer, type: string, query = '') =>
    a.request('POST', `/api/sessions/${session}/photos${query}`, bytes, { 'content-type': type });

  beforeEach(async () => {
    w = await startWeb();
    crew = await w.login('cust-a');
    engineer = await w.login('engineer');
    other = await w.login('cust-b');
    session = (await crew.post('/api/sessions', { vehicleId: 'VA1', description: 'no power' })).json().session.id;
    expect((await engineer.post(`/api/sessions/${session}/answer`)).statusCode).toBe(200);
  });
  afterEach(async () => w?.close());

  it('stores JPEG, PNG and WebP under the photo directory with a random name and its SHA-256, on the timeline, and serves them back', async () => {
    for (const [bytes, type] of [
      [png(), 'image/png'],
      [jpeg(), 'image/jpeg'],
      [webp(), 'image/webp'],
    ] as const) {
      const res = await upload(crew, bytes, type, '?caption=' + encodeURIComponent('面板 panel'));
      expect(res.statusCode, res.body).toBe(201);
      const { photo, entry } = res.json();
      expect(photo).toMatchObject({ type, size: bytes.length, caption: '面板 panel' });
      expect(photo.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(entry).toMatchObject({ kind: 'photo', actor: 'cust-a', data: { photoId: photo.id, type } });
      const got = await engineer.get(`/api/sessions/${session}/photos/${photo.id}`);
      expect(got.statusCode).toBe(200);
      expect(got.rawPayload.equals(bytes)).toBe(true);
      expect(got.headers['content-type']).toBe(type);
      expect(got.headers['x-content-type-options']).toBe('nosniff');
      expect(got.headers['content-disposition']).toMatch(/^inline; filename="ph_[\w-]+\.(png|jpg|webp)"$/);
      expect(got.headers['cache-control']).toBe('private, max-age=300');
    }
    const files = await readdir(w.photoDir);
    expect(files).toHaveLength(3);
    for (const f of files) expect(f).toMatch(/^[0-9a-f]{32}$/);
    expect((await readFile(join(w.photoDir, files[0]!))).length).toBe(64);
    // the record lists them, the printable page links them (no loaded assets)
    const record = (await crew.get(`/api/sessions/${session}/record`)).json();
    expect(record.photos).toHaveLength(3);
    expect(record.photos[0].url).toBe(`/api/sessions/${session}/photos/${record.photos[0].id}`);
    const html = (await crew.get(`/api/sessions/${session}/record.html`)).body;
    expect(html).toContain(`<a href="/api/sessions/${session}/photos/${record.photos[0].id}">`);
    expect(html).not.toMatch(/<img|src=/);
  });

  it('decides the type from the bytes: another type, a mismatching header, an empty body and over 5 MB are refused with their own codes, nothing stored', async () => {
    const cases: [Buffer, string, number, string][] = [
      [png(), 'image/jpeg', 415, 'PHOTO_TYPE_MISMATCH'], // a JPEG header but PNG bytes
      [jpeg(), 'image/webp', 415, 'PHOTO_TYPE_MISMATCH'],
      [Buffer.from('GIF89a............'), 'image/png', 415, 'PHOTO_TYPE_UNSUPPORTED'],
      [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/png', 415, 'PHOTO_TYPE_UNSUPPORTED'],
      [Buffer.from('%PDF-1.7'), 'image/jpeg', 415, 'PHOTO_TYPE_UNSUPPORTED'],
      [png(), 'image/gif', 415, 'PHOTO_TYPE_UNSUPPORTED'],
      [png(), 'application/octet-stream', 415, 'PHOTO_TYPE_UNSUPPORTED'],
      [Buffer.alloc(0), 'image/png', 400, 'VALIDATION_FAILED'],
      [png(5 * 1024 * 1024 + 1), 'image/png', 413, 'PHOTO_TOO_LARGE'],
    ];
    for (const [bytes, type, status, code] of cases) {
      const res = await upload(crew, bytes, type);
      expect(res.statusCode, `${type} ${bytes.subarray(0, 8).toString('hex')}: ${res.body}`).toBe(status);
      expect(codeOf(res)).toBe(code);
    }
    // exactly 5 MB is fine
    expect((await upload(crew, png(5 * 1024 * 1024), 'image/png')).statusCode).toBe(201);
    expect(await readdir(w.photoDir)).toHaveLength(1);
    const caption = await upload(crew, png(), 'image/png', `?caption=${'x'.repeat(501)}`);
    expect(caption.statusCode).toBe(400);
    expect(codeOf(caption)).toBe('VALIDATION_FAILED');
  });

  it('only participants: staff join first; another unit’s customer gets 404 for upload and download, the same as a missing photo’s session', async () => {
    const observer = await w.login('dispatcher');
    const notJoined = await upload(observer, png(), 'image/png');
    expect(notJoined.statusCode).toBe(409);
    expect(codeOf(notJoined)).toBe('SESSION_NOT_JOINED');
    const { photo } = (await upload(crew, png(), 'image/png')).json();
    const foreign = await other.get(`/api/sessions/${session}/photos/${photo.id}`);
    const missing = await other.get(`/api/sessions/999999/photos/${photo.id}`);
    expect(foreign.statusCode).toBe(404);
    expect(codeOf(foreign)).toBe('SESSION_NOT_FOUND');
    expect(foreign.json().error.message.replace(/\d+/g, '#')).toBe(missing.json().error.message.replace(/\d+/g, '#'));
    expect(foreign.body).not.toContain(photo.sha256);
    const up = await upload(other, png(), 'image/png');
    expect(up.statusCode).toBe(404);
    expect(codeOf(up)).toBe('SESSION_NOT_FOUND');
    // a photo id of another session is not found through this one
    const sessionB = (await other.post('/api/sessions', { vehicleId: 'VB1', description: 'b' })).json().session.id;
    const cross = await other.get(`/api/sessions/${sessionB}/photos/${photo.id}`);
    expect(cross.statusCode).toBe(404);
    expect(codeOf(cross)).toBe('PHOTO_NOT_FOUND');
    // once the session ended, nothing more is attached
    await engineer.post(`/api/sessions/${session}/end`, { outcome: 'resolved_remotely' });
    const late = await upload(crew, png(), 'image/png');
    expect(late.statusCode).toBe(409);
    expect(codeOf(late)).toBe('SESSION_INVALID_STATE');
    expect(await readdir(w.photoDir)).toHaveLength(1);
  });
});
