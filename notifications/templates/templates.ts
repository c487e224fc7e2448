import { readFileSync } from 'node:fs';
import { isMap, LineCounter, parseDocument, type Node } from 'yaml';
import { PlatformError } from '../../core/errors.ts';
import { LANGUAGES, type Language } from '../outbox.ts';
import { MESSAGE_KINDS, type MessageKind } from '../kinds.ts';

/** Every placeholder a template may use; any other stops the start. */
export const PLACEHOLDERS = [
  'vehicle',
  'unit',
  'ticketNumber',
  'level',
  'what',
  'safety',
  'status',
  'handler',
  'eta',
  'etaNote',
  'hearBy',
  'link',
  'note',
  'reason',
  'ackLink',
  'count',
  'updates',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export const PHRASES = ['etaNotGiven', 'safetyDefault', 'dutyDesk'] as const;
export type Phrase = (typeof PHRASES)[number];

const FIELDS = ['subject', 'text', 'html'] as const;
type Field = (typeof FIELDS)[number];
type Template = Record<Field, string>;

/** What a rendering yields: ready for the outbox. */
export interface Rendered {
  subject: string;
  text: string;
  html: string;
}

/** The values of one message; null or '' leaves out the lines whose placeholders are all empty. */
export type Values = Partial<Record<Placeholder, string | number | null>>;

export interface TemplateBook {
  render(kind: MessageKind, language: Language, values: Values): Rendered;
  phrase(name: Phrase, language: Language): string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;
const KNOWN = new Set<string>(PLACEHOLDERS);

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
/** Control characters out (a typed name cannot add lines or headers); newlines kept only where asked. */
const clean = (s: string, keepNewlines: boolean) =>
  // eslint-disable-next-line no-control-regex
  s.replace(keepNewlines ? /[\u0000-\u0009\u000b-\u001f\u007f]/g : /[\u0000-\u001f\u007f]+/g, ' ');

function fill(template: string, values: Values, mode: 'subject' | 'text' | 'html'): string {
  const value = (name: string): string => {
    const v = values[name as Placeholder];
    if (v === null || v === undefined) return '';
    const s = clean(String(v), mode !== 'subject');
    return mode === 'html' ? escapeHtml(s).replace(/\n/g, '<br>') : s;
  };
  const lines = template.split('\n').filter((line) => {
    const names = [...line.matchAll(PLACEHOLDER)].map((m) => m[1]!);
    return names.length === 0 || names.some((n) => value(n) !== '');
  });
  return lines
    .join('\n')
    .replace(PLACEHOLDER, (_, name: string) => value(name))
    .replace(/[ \t]+$/gm, '')
    .trim();
}

/**
 * Parses and checks a template file: every kind of message (kinds.ts) in every language with a
 * subject, text and html; every phrase in every language; only known placeholders. An error names
 * the file, the line and the key.
 */
export function parseTemplateFile(source: string, file = 'templates'): TemplateBook {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false });
  const fail = (path: (string | number)[], message: string, node?: Node | null): never => {
    const at = node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
    throw new PlatformError(
      'INVALID_ARGUMENT',
      `invalid template file: ${file}${at ? `:${at}` : ''} at ${path.join('.') || '(top)'}: ${message}`,
    );
  };
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new PlatformError(
      'INVALID_ARGUMENT',
      `invalid template file: ${file}:${lineCounter.linePos(e.pos[0]).line}: not valid YAML: ${e.message.split('\n')[0]}`,
    );
  }
  const nodeAt = (path: (string | number)[]) => doc.getIn(path, true) as Node | undefined;
  const root = doc.toJS() as unknown;
  if (!root || typeof root !== 'object') fail([], 'must be a mapping with version, phrases and templates');
  const r = root as Record<string, unknown>;
  for (const k of Object.keys(r))
    if (!['version', 'phrases', 'templates'].includes(k)) fail([k], 'unknown key', nodeAt([k]));
  if (r.version !== 1) fail(['version'], 'must be 1', nodeAt(['version']));

  const str = (path: (string | number)[]): string => {
    const node = nodeAt(path);
    const v = doc.getIn(path) as unknown;
    if (typeof v !== 'string' || v.trim() === '')
      fail(path, v === undefined ? 'missing' : 'must be non-empty text', node ?? nodeAt(path.slice(0, -1)));
    return v as string;
  };
  const keysOf = (path: string[]) => {
    const n = nodeAt(path);
    if (!isMap(n)) fail(path, 'must be a mapping', n ?? nodeAt(path.slice(0, -1)));
    return (n as unknown as { items: { key: { value: unknown } }[] }).items.map((i) => String(i.key.value));
  };

  const phrases = new Map<string, string>();
  for (const k of keysOf(['phrases']))
    if (!(PHRASES as readonly string[]).includes(k))
      fail(['phrases', k], `unknown phrase (known: ${PHRASES.join(', ')})`, nodeAt(['phrases', k]));
  for (const p of PHRASES) {
    for (const k of keysOf(['phrases', p]))
      if (!(LANGUAGES as readonly string[]).includes(k))
        fail(['phrases', p, k], 'unknown language (en, zh)', nodeAt(['phrases', p, k]));
    for (const lang of LANGUAGES) phrases.set(`${p}:${lang}`, str(['phrases', p, lang]));
  }

  const templates = new Map<string, Template>();
  for (const k of keysOf(['templates']))
    if (!(MESSAGE_KINDS as readonly string[]).includes(k))
      fail(['templates', k], `unknown kind of message (known: ${MESSAGE_KINDS.join(', ')})`, nodeAt(['templates', k]));
  for (const kind of MESSAGE_KINDS) {
    for (const k of keysOf(['templates', kind]))
      if (!(LANGUAGES as readonly string[]).includes(k))
        fail(['templates', kind, k], 'unknown language (en, zh)', nodeAt(['templates', kind, k]));
    for (const lang of LANGUAGES) {
      for (const k of keysOf(['templates', kind, lang]))
        if (!(FIELDS as readonly string[]).includes(k))
          fail(
            ['templates', kind, lang, k],
            'unknown field (subject, text, html)',
            nodeAt(['templates', kind, lang, k]),
          );
      const t = {} as Template;
      for (const field of FIELDS) {
        const path = ['templates', kind, lang, field];
        const value = str(path);
        for (const m of value.matchAll(PLACEHOLDER))
          if (!KNOWN.has(m[1]!))
            fail(path, `unknown placeholder {{${m[1]}}} (known: ${PLACEHOLDERS.join(', ')})`, nodeAt(path));
        t[field] = value;
      }
      templates.set(`${kind}:${lang}`, t);
    }
  }

  return {
    render(kind, language, values) {
      const t = templates.get(`${kind}:${language}`)!;
      return {
        subject: fill(t.subject, values, 'subject'),
        text: fill(t.text, values, 'text'),
        html: fill(t.html, values, 'html'),
      };
    },
    phrase: (name, language) => phrases.get(`${name}:${language}`)!,
  };
}

export function loadTemplateFile(path: string): TemplateBook {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PlatformError('INVALID_ARGUMENT', `invalid template file: ${path}: ${(err as Error).message}`);
  }
  return parseTemplateFile(text, path);
}

export const DEFAULT_TEMPLATES = new URL('./default-templates.yaml', import.meta.url).pathname;
