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

// Words whose « h » is aspirated: French keeps « de » in full before them (« de Hauts-de-France »).
const H_ASPIRATED = /^h(?:aut|ameau|andi|angar|all|asard|ibou|ollande|ongr|ors)/i;

/**
 * French « de » before a name: elided to « d’ » (typographic apostrophe) before a vowel, a mute
 * h or a y followed by a consonant (« d’Alimentation », « d’Habitat », « de Mobilité »).
 */
export function deName(name) {
  const text = String(name);
  const elided =
    /^[aeiouàâäéèêëîïôöùûüæœ]/i.test(text) || /^y[^aeiouàâäéèêëîïôöùûü]/i.test(text) || (/^h/i.test(text) && !H_ASPIRATED.test(text));
  return elided ? `d’${text}` : `de ${text}`;
}

/**
 * The string for a key in the current language, `{name}` placeholders replaced by `params`;
 * `{de:name}` gives the value after French « de », elided when needed (see `deName`).
 * A missing key shows the key itself, which the tests look for.
 */
export function t(key, params = {}) {
  const value = DICTIONARIES[current][key] ?? DICTIONARIES.fr[key] ?? key;
  if (typeof value !== 'string') return value;
  return value.replace(/\{(de:)?(\w+)\}/g, (m, de, name) => {
    if (!(name in params)) return m;
    return de ? deName(params[name]) : String(params[name]);
  });
}
