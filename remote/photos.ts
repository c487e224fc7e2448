import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { RecordsDb } from '../records/db.ts';
import { PHOTO_TYPES, sniffPhotoType, type PhotoType } from './photo-type.ts';
import type { RemoteSessions } from './sessions.ts';
import type { SessionAccess, SessionPrincipal, SessionTimelineEntry } from './types.ts';
import './errors.ts';

export interface SessionPhotosTable {
  id: string;
  session_id: number;
  type: string;
  size: number;
  sha256: string;
  /** The file's name in the photo directory (random, never the uploader's). */
  file: string;
  caption: string | null;
  uploaded_by: string;
  uploaded_at: number;
}

declare module '../records/schema.ts' {
  interface RecordsSchema {
    session_photos: SessionPhotosTable;
  }
}

/** 5 MB. */
export const PHOTO_MAX_BYTES = 5 * 1024 * 1024;
export const CAPTION_MAX_CHARS = 500;

export interface SessionPhoto {
  id: string;
  sessionId: number;
  type: PhotoType;
  size: number;
  sha256: string;
  caption: string | null;
  uploadedBy: string;
  uploadedAt: number;
}

const toPhoto = (r: SessionPhotosTable): SessionPhoto => ({
  id: r.id,
  sessionId: Number(r.session_id),
  type: r.type as PhotoType,
  size: Number(r.size),
  sha256: r.sha256,
  caption: r.caption,
  uploadedBy: r.uploaded_by,
  uploadedAt: Number(r.uploaded_at),
});

/**
 * The photos of remote sessions (the crew's pictures of a panel, a display, a fault): the bytes in a
 * file under `dir` with a random name, the row (type from the magic bytes, size, SHA-256, caption,
 * who) with a `photo` timeline entry in one transaction (`RemoteSessions.photo`). Read back only by
 * those `SessionAccess.access` admits; for anyone else the session does not exist.
 */
export function createSessionPhotos(
  deps: { db: RecordsDb; log: Logger; sessions: Pick<RemoteSessions, 'photo'> & Pick<SessionAccess, 'access'> },
  options: { dir: string; maxBytes?: number },
) {
  const { db, log } = deps;
  const maxBytes = options.maxBytes ?? PHOTO_MAX_BYTES;
  let made: Promise<unknown> | undefined;

  async function visible(principal: SessionPrincipal, sessionId: number) {
    const a = await deps.sessions.access(principal, sessionId);
    if (!a) throw new PlatformError('SESSION_NOT_FOUND', `session ${sessionId} not found`);
    return a;
  }

  return {
    maxBytes,
    /**
     * Stores a photo. `declared` is the content-type the client sent: the bytes decide the type, and
     * a header naming another image type is refused (PHOTO_TYPE_MISMATCH).
     */
    async add(
      principal: SessionPrincipal,
      sessionId: number,
      bytes: Buffer,
      declared: string | undefined,
      caption: string | null,
    ): Promise<{ photo: SessionPhoto; entry: SessionTimelineEntry }> {
      await visible(principal, sessionId);
      if (bytes.length === 0) throw new PlatformError('VALIDATION_FAILED', 'body: the photo is empty');
      if (bytes.length > maxBytes)
        throw new PlatformError('PHOTO_TOO_LARGE', `a photo has at most ${maxBytes} bytes (5 MB)`);
      const type = sniffPhotoType(bytes);
      if (!type)
        throw new PlatformError(
          'PHOTO_TYPE_UNSUPPORTED',
          `a photo must be ${PHOTO_TYPES.join(', ')} (judged from its bytes)`,
        );
      const header = declared?.split(';')[0]?.trim().toLowerCase();
      if (header && header !== type)
        throw new PlatformError('PHOTO_TYPE_MISMATCH', `the bytes are ${type}, but the content-type says ${header}`);
      const text = caption?.trim() || null;
      if (text && text.length > CAPTION_MAX_CHARS)
        throw new PlatformError('VALIDATION_FAILED', `query.caption: at most ${CAPTION_MAX_CHARS} characters`);

      const id = `ph_${randomBytes(12).toString('base64url')}`;
      const file = randomBytes(16).toString('hex');
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      made ??= mkdir(options.dir, { recursive: true, mode: 0o700 });
      await made;
      const path = join(options.dir, file);
      await writeFile(`${path}.part`, bytes, { mode: 0o600 });
      await rename(`${path}.part`, path);
      let uploadedAt = 0;
      try {
        const entry = await deps.sessions.photo(
          principal,
          sessionId,
          { id, type, size: bytes.length, caption: text },
          async (tx, at) => {
            uploadedAt = at;
            await tx
              .insertInto('session_photos')
              .values({
                id,
                session_id: sessionId,
                type,
                size: bytes.length,
                sha256,
                file,
                caption: text,
                uploaded_by: principal.id,
                uploaded_at: at,
              })
              .execute();
          },
        );
        const photo: SessionPhoto = {
          id,
          sessionId,
          type,
          size: bytes.length,
          sha256,
          caption: text,
          uploadedBy: principal.id,
          uploadedAt,
        };
        return { photo, entry };
      } catch (err) {
        await unlink(path).catch((e: unknown) => log.warn({ err: e }, 'photo file not removed'));
        throw err;
      }
    },

    /** A photo and its bytes, for someone the session admits; PHOTO_NOT_FOUND for a photo not of this session. */
    async read(
      principal: SessionPrincipal,
      sessionId: number,
      photoId: string,
    ): Promise<{ photo: SessionPhoto; bytes: Buffer }> {
      await visible(principal, sessionId);
      const row = await db
        .selectFrom('session_photos')
        .selectAll()
        .where('id', '=', photoId)
        .where('session_id', '=', sessionId)
        .executeTakeFirst();
      if (!row) throw new PlatformError('PHOTO_NOT_FOUND', `photo ${photoId} not found`);
      let bytes: Buffer;
      try {
        bytes = await readFile(join(options.dir, row.file));
      } catch (err) {
        log.error({ err, photo: photoId }, 'photo file missing');
        throw new PlatformError('PHOTO_NOT_FOUND', `photo ${photoId} not found`);
      }
      return { photo: toPhoto(row), bytes };
    },

    /** The photos of a session, oldest first (the record). */
    async list(sessionId: number): Promise<SessionPhoto[]> {
      const rows = await db
        .selectFrom('session_photos')
        .selectAll()
        .where('session_id', '=', sessionId)
        .orderBy('uploaded_at')
        .orderBy('id')
        .execute();
      return rows.map(toPhoto);
    },
  };
}

export type SessionPhotos = ReturnType<typeof createSessionPhotos>;
