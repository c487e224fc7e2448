/**
 * The language switch, "中文 / EN", the current language in bold; the choice is remembered
 * (localStorage). "中文" is drawn as strokes in an inline SVG, so the switch reads right in a
 * browser without Chinese fonts (where text would show empty boxes); its name for screen readers
 * is the label `lang.switch`.
 */
import { getLang, setLang, t, useLang } from '../i18n.ts';

/** 中 and 文 as strokes, 16 units a character, in the text's colour. */
function ZhongWen() {
  return (
    <svg class="zhongwen" viewBox="0 0 32 16" width="2em" height="1em" aria-hidden="true" focusable="false">
      <g fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">
        <path d="M2.5 4.5h11v6h-11zM8 1v14.5" />
        <path d="M24 1v2.2M18 4.5h12M21 4.5c1.5 5 4.5 8.5 9 10.5M27 4.5c-1.5 5-4.5 8.5-9 10.5" />
      </g>
    </svg>
  );
}

export function LangSwitch() {
  const lang = useLang();
  const other = getLang() === 'en' ? 'zh' : 'en';
  return (
    <button
      type="button"
      class="lang"
      data-testid="lang-switch"
      data-lang={lang}
      onClick={() => setLang(other)}
      aria-label={t('lang.switch')}
      title={t('lang.switch')}
    >
      <span class={lang === 'zh' ? 'current' : undefined}>
        <ZhongWen />
      </span>{' '}
      / <span class={lang === 'en' ? 'current' : undefined}>EN</span>
    </button>
  );
}
