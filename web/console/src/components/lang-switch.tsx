/** The 简体中文 / English switch; the choice is remembered (localStorage). */
import { getLang, setLang, t, useLang } from '../i18n.ts';

export function LangSwitch() {
  useLang();
  const other = getLang() === 'en' ? 'zh' : 'en';
  return (
    <button
      type="button"
      class="lang"
      data-testid="lang-switch"
      onClick={() => setLang(other)}
      title={other === 'zh' ? '切换到简体中文' : 'Switch to English'}
    >
      {t('lang.switch')}
    </button>
  );
}
