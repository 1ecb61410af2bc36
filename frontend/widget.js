// <ancrage-map>: the embeddable map as a web component for other sites.
//
//   <script type="module" src="https://HOST/widget.js"></script>
//   <ancrage-map territory="epci:200000172" categories="tiers-lieux" height="480"></ancrage-map>
//
// The element draws an <iframe> of HOST/embed (HOST being where this script comes from) in its
// shadow root, so the host page's styles cannot reach the map, and follows its attributes.
// Self-contained: a module loaded from another origin cannot import more without CORS.

/** Attributes the element reads. */
export const ATTRIBUTES = [
  'territory',
  'categories',
  'family',
  'tiers-lieux',
  'open',
  'demo',
  'center',
  'zoom',
  'bbox',
  'lang',
  'basemap',
  'controls',
  'theme',
  'height',
  'width',
  'title',
];

const DEFAULT_HEIGHT = '480px';
const TITLES = { fr: 'Carte des acteurs de l’ESS', en: 'Map of social and solidarity economy actors' };

function yes(v) {
  return v !== null && !['false', '0', 'no', 'non'].includes(v.trim().toLowerCase());
}

/**
 * The /embed query parameters for the element's attributes; `get(name)` returns an
 * attribute's value or null. Values go through as given: the embed page checks them and
 * warns about the bad ones.
 * @param {(name: string) => string | null} get
 */
export function embedParams(get) {
  const p = new URLSearchParams();
  const copy = (attr, param) => {
    const v = get(attr);
    if (v !== null && v.trim() !== '') p.set(param, v.trim());
  };
  copy('territory', 'territory');
  copy('categories', 'cat');
  copy('family', 'fam');
  if (yes(get('tiers-lieux'))) p.set('tl', '1');
  if (yes(get('open'))) p.set('open', '1');
  const demo = get('demo');
  if (demo !== null) p.set('demo', yes(demo) ? '1' : '0');
  const center = get('center');
  if (center !== null) {
    const [lon, lat] = center.split(',').map((s) => s.trim());
    p.set('lon', lon ?? '');
    p.set('lat', lat ?? '');
  }
  copy('zoom', 'z');
  copy('bbox', 'bbox');
  copy('lang', 'lang');
  copy('basemap', 'basemap');
  const controls = get('controls');
  if (controls !== null) p.set('controls', controls.trim() || 'none');
  copy('theme', 'theme');
  return p;
}

/** A CSS length for a size attribute: a bare number is pixels; anything else unsafe is `fallback`. */
export function cssLength(value, fallback) {
  const v = (value ?? '').trim();
  if (/^\d+(\.\d+)?$/.test(v)) return `${v}px`;
  if (/^\d+(\.\d+)?(px|%|vh|vw|em|rem)$/.test(v)) return v;
  return fallback;
}

const Base = globalThis.HTMLElement ?? class {};

/** The `<ancrage-map>` element. */
export class AncrageMap extends Base {
  static get observedAttributes() {
    return ATTRIBUTES;
  }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent =
      ':host{display:block;max-width:100%}:host([hidden]){display:none}' +
      'iframe{display:block;border:0;margin:0;padding:0;max-width:100%;background:#dfe9ee}';
    this.frame = document.createElement('iframe');
    this.frame.setAttribute('allow', 'geolocation; fullscreen');
    this.frame.setAttribute('loading', 'lazy');
    this.frame.setAttribute('referrerpolicy', 'strict-origin-when-cross-origin');
    root.append(style, this.frame);
    this.pending = false;
  }

  connectedCallback() {
    this.render();
  }

  attributeChangedCallback() {
    // Several attributes set in a row make one new address.
    if (this.pending || !this.isConnected) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.render();
    });
  }

  /** The address of the embed the element shows. */
  get src() {
    const query = embedParams((name) => this.getAttribute(name)).toString();
    const url = new URL('/embed', import.meta.url);
    url.search = query;
    return url.href;
  }

  render() {
    const src = this.src;
    if (this.frame.getAttribute('src') !== src) this.frame.setAttribute('src', src);
    const lang = this.getAttribute('lang') === 'en' ? 'en' : 'fr';
    this.frame.title = this.getAttribute('title')?.trim() || TITLES[lang];
    this.frame.style.width = cssLength(this.getAttribute('width'), '100%');
    this.frame.style.height = cssLength(this.getAttribute('height'), DEFAULT_HEIGHT);
  }
}

if (globalThis.customElements && !globalThis.customElements.get('ancrage-map')) {
  globalThis.customElements.define('ancrage-map', AncrageMap);
}
