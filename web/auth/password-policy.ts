import type * as ZxcvbnCommon from '@zxcvbn-ts/language-common';
import { PlatformError } from '../../core/errors.ts';
import { lazyModule } from '../../core/lazy-module.ts';

import type {} from './errors.ts';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;
/** Fewer different characters than this is a pattern, not a password. */
const MIN_DISTINCT = 5;
/** What must remain of a password once the account's id, name and the product name are taken out. */
const MIN_REST = 10;
export const PRODUCT_NAMES = ['powerwatch', 'power watch'];

/**
 * The common-password list shipped with the project: `@zxcvbn-ts/language-common`'s ranked list of
 * the most used passwords from breaches (about 49,000 entries), lower case.
 */
const zxcvbnCommon = lazyModule<typeof ZxcvbnCommon>('@zxcvbn-ts/language-common');
let common: Set<string> | undefined;
/** The list, loaded at the first password checked (its module holds several lists, ≈ 3 MB of heap). */
function commonPasswords(): Set<string> {
  common ??= new Set((zxcvbnCommon().dictionary as Record<string, string[]>)['passwords-common'] ?? []);
  return common;
}

const LEET: Record<string, string> = {
  '0': 'o',
  '1': 'l',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
};

/** Lower case, without spaces and separators: "Pass word-1234" → "password1234". */
const squash = (s: string) =>
  s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s._\-+*/\\|,;:'"`~^]+/gu, '');
/** Without what people put around a common word: digits and symbols at either end. */
const core = (s: string) => s.replace(/^[\p{N}\p{P}\p{S}_]+/u, '').replace(/[\p{N}\p{P}\p{S}_]+$/u, '');
const unleet = (s: string) => [...s].map((c) => LEET[c] ?? c).join('');

/** Whether `s` is a run of neighbours: "abcdefghijkl", "987654321098", "qwertyuiop…" */
const ROWS = [
  'abcdefghijklmnopqrstuvwxyz',
  '01234567890',
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  '1qaz2wsx3edc4rfv5tgb',
];
function isSequence(s: string): boolean {
  if (s.length < 4) return false;
  for (const row of ROWS)
    for (const r of [row, [...row].reverse().join('')]) {
      const doubled = r + r;
      if (doubled.includes(s)) return true;
    }
  return false;
}

/** Whether `s` is a shorter string repeated ("abcabcabcabc"). */
function isRepetition(s: string): boolean {
  for (let n = 1; n <= s.length / 2; n++)
    if (s.length % n === 0 && s.slice(0, n).repeat(s.length / n) === s) return true;
  return false;
}

export type PasswordProblem = {
  code: 'PASSWORD_TOO_SHORT' | 'PASSWORD_TOO_SIMPLE' | 'PASSWORD_COMMON' | 'PASSWORD_PERSONAL' | 'INVALID_ARGUMENT';
  message: string;
};

/**
 * The password rule (issue 16, item 7). A length rule alone accepted twelve spaces and
 * `password1234`. Now a password must have at least 12 characters (code points) and at most 256, not
 * be blank, a repetition, a sequence or nearly one character; not be (give or take case, spaces and
 * separators, digits and symbols around it, l33t spelling) on the common-password list; and not be
 * built on the account's id, its name or the product's name. Long passphrases of ordinary words
 * ("correct horse battery staple") pass: nothing asks for digits or symbols.
 */
export function passwordProblem(
  password: string,
  personal: { accountId?: string; names?: (string | null | undefined)[] } = {},
): PasswordProblem | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH)
    return { code: 'PASSWORD_TOO_SHORT', message: `a password needs at least ${PASSWORD_MIN_LENGTH} characters` };
  if (length > PASSWORD_MAX_LENGTH)
    return { code: 'INVALID_ARGUMENT', message: `a password has at most ${PASSWORD_MAX_LENGTH} characters` };
  if (password.trim() === '') return { code: 'PASSWORD_TOO_SIMPLE', message: 'a password must not be only spaces' };
  const flat = squash(password);
  if (new Set(flat).size < MIN_DISTINCT)
    return {
      code: 'PASSWORD_TOO_SIMPLE',
      message: `a password needs at least ${MIN_DISTINCT} different characters (not counting spaces and separators)`,
    };
  if (isRepetition(flat) || isSequence(flat))
    return {
      code: 'PASSWORD_TOO_SIMPLE',
      message: 'a password must not be a repetition or a keyboard or number sequence',
    };
  if (/^\p{N}+$/u.test(flat))
    return {
      code: 'PASSWORD_TOO_SIMPLE',
      message: 'a password must not be digits only; a few words are easier to remember',
    };
  const list = commonPasswords();
  const candidates = new Set([flat, core(flat), unleet(flat), core(unleet(flat)), unleet(core(flat))]);
  for (const c of candidates)
    if (c !== '' && (list.has(c) || isSequence(c) || new Set(c).size < 3))
      return {
        code: 'PASSWORD_COMMON',
        message: 'this password is on the list of commonly used passwords; choose another',
      };
  const bases = [personal.accountId, ...(personal.names ?? []), ...PRODUCT_NAMES]
    .filter((b): b is string => !!b)
    .map(squash)
    .filter((b) => b.length >= 3);
  for (const form of [flat, unleet(flat)]) {
    let rest = form;
    for (const b of bases.sort((x, y) => y.length - x.length)) rest = rest.split(b).join('');
    if (rest !== form && squash(core(rest)).length < MIN_REST)
      return {
        code: 'PASSWORD_PERSONAL',
        message: 'a password must not be built on your account id, your name or the product’s name',
      };
  }
  return null;
}

/** Throws the password's problem as a PlatformError. */
export function checkPassword(password: string, personal: Parameters<typeof passwordProblem>[1] = {}): void {
  const p = passwordProblem(password, personal);
  if (p) throw new PlatformError(p.code, p.message);
}
