// The layers of the self-hosted basemap's style, made from the npm package @protomaps/basemaps
// (BSD-3-Clause) for its "light" flavour with French labels, then adapted to the map: labels in
// the browser's own fonts (the style has no glyph server) and no sprite icons (it has no
// sprite). `scripts/vendor-basemap-style` writes them to frontend/vendor/protomaps-basemaps/;
// a unit test checks that the vendored file is what this gives.

import { layers, namedFlavor } from '@protomaps/basemaps';

/** The source name the layers read, as the server's style names it. */
export const SOURCE = 'protomaps';

/** A value with every font the style names (e.g. inside `format` sections) replaced by the browser's. */
function localFonts(value) {
  if (typeof value === 'string') return value.startsWith('Noto Sans') ? 'sans-serif' : value;
  if (Array.isArray(value)) return value.map(localFonts);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, localFonts(v)]));
  return value;
}

/** The adapted layers. */
export function basemapLayers() {
  const out = [];
  for (const layer of layers(SOURCE, namedFlavor('light'), { lang: 'fr' })) {
    const layout = layer.layout ? { ...layer.layout } : undefined;
    if (layout) {
      const hasText = 'text-field' in layout;
      if ('icon-image' in layout && !hasText) continue;
      for (const key of Object.keys(layout)) if (key.startsWith('icon-')) delete layout[key];
      if (hasText) layout['text-font'] = ['sans-serif'];
    }
    out.push(localFonts(layout ? { ...layer, layout } : { ...layer }));
  }
  return out;
}
