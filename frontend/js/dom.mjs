// Building DOM nodes and reading the JSON API, shared by the pages' modules.

/**
 * An element with attributes and children: `class`, `text` (text content) and `on…` (event
 * listeners) are special; `true` is an empty attribute; `null`, `undefined` and `false` are
 * left out, as are null and `false` children.
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
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/**
 * GETs a JSON resource of the API; `params` (URLSearchParams or a string) becomes the query.
 * A failed answer throws an Error carrying its HTTP `status`.
 */
export async function api(path, params) {
  const query = params && String(params) ? `?${params}` : '';
  const res = await fetch(`${path}${query}`, { headers: { Accept: 'application/json' } });
  if (!res.ok) {
    const err = new Error(`${res.status} ${path}`);
    err.status = res.status;
    throw err;
  }
  return res.json();
}
