// The page's strings: one dictionary per language, French by default.
import fr from './i18n/fr.mjs';
import en from './i18n/en.mjs';

export const DICTIONARIES = { fr, en };
let current = 'fr';

/** Chooses the language (`fr` or `en`). */
export function setLang(lang) {
  current = lang === 'en' ? 'en' : 'fr';
}

/**
 * Switches between French and English and remembers the choice for the next visit (when the
 * browser allows storage; the URL keeps it anyway). Returns the new language.
 */
export function toggleLang() {
  setLang(current === 'fr' ? 'en' : 'fr');
  try {
    localStorage.setItem('ancrage.lang', current);
  } catch {
    // Private browsing: not kept.
  }
  return current;
}

/** The current language. */
export function lang() {
  return current;
}

/**
 * The string for a key in the current language, `{name}` placeholders replaced by `params`.
 * A missing key shows the key itself, which the tests look for.
 */
export function t(key, params = {}) {
  const value = DICTIONARIES[current][key] ?? DICTIONARIES.fr[key] ?? key;
  if (typeof value !== 'string') return value;
  return value.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}
