// Formatting helpers shared by the page: distances, geometry for "Autour de moi", links.
// Pure functions, tested with node.

const EARTH_RADIUS_M = 6371008.8;

/**
 * A distance for people: metres under 1 km (rounded to 10 m), then kilometres with one
 * decimal under 10 km, whole kilometres beyond.
 * @param {number} metres
 * @param {string} lang `fr` or `en`
 */
export function formatDistance(metres, lang) {
  const nf = (digits) =>
    new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'fr-FR', {
      maximumFractionDigits: digits,
      minimumFractionDigits: digits,
    });
  if (metres < 1000) return `${nf(0).format(Math.max(10, Math.round(metres / 10) * 10))} m`;
  if (metres < 10000) return `${nf(1).format(metres / 1000)} km`;
  return `${nf(0).format(metres / 1000)} km`;
}

/**
 * A distance compared with a threshold (« à plus de 10 km »), formatted so that it reads on
 * the same side of the threshold as it is: 10 040 m beyond 10 km reads « 10,1 km », not
 * « 10 km »; 9 960 m within it reads « 9,9 km ». Otherwise as {@link formatDistance}.
 * @param {number} metres
 * @param {number} thresholdM
 * @param {string} lang
 */
export function formatDistanceVs(metres, thresholdM, lang) {
  const step = metres < 1000 ? 10 : metres < 10000 ? 100 : 1000;
  const shown = metres < 1000 ? Math.max(10, Math.round(metres / step) * step) : Math.round(metres / step) * step;
  const beyond = metres > thresholdM;
  if (beyond ? shown > thresholdM : shown < thresholdM || metres === thresholdM) return formatDistance(metres, lang);
  // One step finer, rounded away from the threshold.
  const fine = metres < 1000 ? 1 : 100;
  const v = beyond ? Math.ceil(metres / fine) * fine : Math.floor(metres / fine) * fine;
  const nf = new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { maximumFractionDigits: 1, minimumFractionDigits: fine === 1 ? 0 : 1 });
  return fine === 1 ? `${nf.format(v)} m` : `${nf.format(v / 1000)} km`;
}

/** Great-circle distance in metres between two `[lon, lat]` points. */
export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * A circle of `radiusM` metres around `[lon, lat]` as a GeoJSON Polygon of `steps` vertices
 * (destination points on the sphere).
 */
export function circlePolygon(centre, radiusM, steps = 64) {
  const rad = Math.PI / 180;
  const [lon0, lat0] = [centre[0] * rad, centre[1] * rad];
  const d = radiusM / EARTH_RADIUS_M;
  const ring = [];
  for (let i = 0; i <= steps; i++) {
    const bearing = ((i % steps) / steps) * 2 * Math.PI;
    const lat = Math.asin(Math.sin(lat0) * Math.cos(d) + Math.cos(lat0) * Math.sin(d) * Math.cos(bearing));
    const lon =
      lon0 + Math.atan2(Math.sin(bearing) * Math.sin(d) * Math.cos(lat0), Math.cos(d) - Math.sin(lat0) * Math.sin(lat));
    ring.push([lon / rad, lat / rad]);
  }
  return { type: 'Polygon', coordinates: [ring] };
}

/** OpenStreetMap directions to a point (the start is left for the person to choose). */
export function osmDirectionsUrl(lon, lat) {
  return `https://www.openstreetmap.org/directions?route=%3B${lat.toFixed(6)}%2C${lon.toFixed(6)}#map=16/${lat.toFixed(6)}/${lon.toFixed(6)}`;
}

/** A `geo:` URI (RFC 5870) that phones open in their maps application. */
export function geoUri(lon, lat, label) {
  return `geo:${lat.toFixed(6)},${lon.toFixed(6)}?q=${lat.toFixed(6)},${lon.toFixed(6)}(${encodeURIComponent(label)})`;
}

/** A `mailto:` link reporting an error on an actor. */
export function reportMailto(address, subject, body) {
  return `mailto:${address}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(body)}`;
}

/** Only http(s) links are shown as links; anything else is shown as text. */
export function safeHttpUrl(text) {
  try {
    const u = new URL(text);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}
