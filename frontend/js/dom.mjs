// Building DOM nodes, shared by the map page's modules.

/**
 * An element with attributes and children: `class`, `text` (text content) and `on…` (event
 * listeners) are special; `true` is an empty attribute; `null`, `undefined` and `false` are
 * left out, as are null children.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}
