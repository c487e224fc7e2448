import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATES, parseTemplateFile } from '../../notifications/templates/templates.ts';
import { MESSAGE_KINDS } from '../../notifications/kinds.ts';
import { isPlatformError } from '../../core/errors.ts';

const source = readFileSync(DEFAULT_TEMPLATES, 'utf8');

function failure(text: string): string {
  try {
    parseTemplateFile(text, 'custom.yaml');
  } catch (err) {
    expect(isPlatformError(err, 'INVALID_ARGUMENT')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('the file was accepted');
}

describe('message templates as data', () => {
  it('the default file has every kind in English and Chinese', () => {
    const book = parseTemplateFile(source, DEFAULT_TEMPLATES);
    for (const kind of MESSAGE_KINDS)
      for (const lang of ['en', 'zh'] as const) {
        const r = book.render(kind, lang, { vehicle: 'V', ticketNumber: 'EM1', link: 'https://x/#/tickets/1' });
        expect(r.subject.length, `${kind} ${lang}`).toBeGreaterThan(0);
        expect(r.text).not.toContain('{{');
        expect(r.html).not.toContain('{{');
      }
  });

  it('an unknown placeholder stops the start, naming the file, the line and the key', () => {
    const bad = source.replace('We will contact you by {{hearBy}}.', 'We will contact you by {{callBackAt}}.');
    const line = bad.split('\n').findIndex((l) => l.includes('{{callBackAt}}'));
    const message = failure(bad);
    expect(message).toContain('custom.yaml:');
    expect(message).toContain('templates.ticket_opened.en.text');
    expect(message).toContain('unknown placeholder {{callBackAt}}');
    // the block scalar starts on the line of its key
    const at = Number(/custom\.yaml:(\d+)/.exec(message)![1]);
    expect(at).toBeGreaterThanOrEqual(line - 8);
    expect(at).toBeLessThanOrEqual(line + 1);
  });

  it('a missing language, field or kind, an unknown kind and bad YAML are refused clearly', () => {
    expect(failure(source.replace(/\n {2}digest:\n[\s\S]*$/, '\n'))).toContain('templates.digest: must be a mapping');
    expect(failure(source.replace('  survey_due:\n', '  survey_later:\n'))).toContain(
      'templates.survey_later: unknown kind of message',
    );
    expect(failure(source.replace(/ {6}subject: "\{\{vehicle\}\}: repaired[^\n]*\n/, ''))).toContain(
      'templates.service_done.en.subject: missing',
    );
    expect(failure('version: 1\ntemplates: [\n')).toMatch(/custom\.yaml:\d+: not valid YAML/);
    expect(failure(source.replace('version: 1', 'version: 2'))).toContain('version: must be 1');
  });

  it('escapes typed values in HTML, keeps subjects on one line, and leaves out lines whose values are all empty', () => {
    const book = parseTemplateFile(source);
    const r = book.render('ticket_opened', 'en', {
      vehicle: 'Shelter "A1" <b>',
      what: 'x\r\nBcc: evil@example.com',
      ticketNumber: 'EM1',
      level: 'Urgent',
      handler: 'Li & Co',
      link: 'https://x/#/tickets/1',
      hearBy: null,
      eta: '',
    });
    expect(r.html).toContain('Shelter &quot;A1&quot; &lt;b&gt;');
    expect(r.html).toContain('Li &amp; Co');
    expect(r.html).not.toContain('<b>');
    expect(r.subject).not.toMatch(/[\r\n]/);
    expect(r.text).not.toContain('We will contact you by');
    expect(r.text).not.toContain('Help expected');
    expect(r.text).toContain('Shelter "A1" <b>');
  });
});
