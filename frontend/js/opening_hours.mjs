// OpenStreetMap `opening_hours`: a parser for the common subset, an "open now" test and a
// description in words.
//
// Supported: `24/7`; rules separated by `;`, each an optional weekday selector (days `Mo`…`Su`,
// ranges such as `Mo-Fr` or `Fr-Mo`, lists such as `Mo,We,Fr`) followed by time spans
// (`09:00-12:00,14:00-18:00`, an end past midnight such as `22:00-02:00`, `24:00` as an end) or
// `off`/`closed`; `PH off` (closed on public holidays). A later rule replaces earlier ones on
// the days it names, as in OpenStreetMap. Anything else makes the whole text unparseable:
// callers then show the raw text and never count the place as open.

/** Day keys in OpenStreetMap order; index 0 is Monday. */
export const DAYS = ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'];

const TIME = /^([01]?\d|2[0-4]):([0-5]\d)$/;

function minutes(text) {
  const m = TIME.exec(text);
  if (!m) return null;
  const value = Number(m[1]) * 60 + Number(m[2]);
  return value > 24 * 60 ? null : value;
}

function parseDays(selector) {
  const days = new Set();
  for (const part of selector.split(',')) {
    const range = part.split('-');
    if (range.length === 1) {
      const d = DAYS.indexOf(range[0]);
      if (d < 0) return null;
      days.add(d);
    } else if (range.length === 2) {
      const from = DAYS.indexOf(range[0]);
      const to = DAYS.indexOf(range[1]);
      if (from < 0 || to < 0) return null;
      for (let d = from; ; d = (d + 1) % 7) {
        days.add(d);
        if (d === to) break;
      }
    } else {
      return null;
    }
  }
  return days;
}

function parseSpans(text) {
  const spans = [];
  for (const part of text.split(',')) {
    const ends = part.split('-');
    if (ends.length !== 2) return null;
    const start = minutes(ends[0]);
    let end = minutes(ends[1]);
    if (start === null || end === null || start >= 24 * 60) return null;
    if (end <= start) end += 24 * 60; // Runs past midnight into the next day.
    spans.push([start, end]);
  }
  return spans;
}

/**
 * Parses an `opening_hours` value.
 * @param {string|null|undefined} text
 * @returns {{week: Array<Array<[number, number]>>, holidaysOff: boolean, always: boolean} | null}
 *   `week[d]` holds the spans of day `d` (Monday 0) in minutes from that day's midnight, an end
 *   above 1440 running into the next day; `null` when the text is empty or unsupported.
 */
export function parse(text) {
  if (typeof text !== 'string') return null;
  const source = text.trim();
  if (!source) return null;
  if (source === '24/7') {
    return { week: DAYS.map(() => [[0, 24 * 60]]), holidaysOff: false, always: true };
  }
  const week = DAYS.map(() => []);
  let holidaysOff = false;
  const rules = source.split(';').map((r) => r.trim()).filter(Boolean);
  if (!rules.length) return null;
  for (const rule of rules) {
    const tokens = rule.split(/\s+/);
    let days = new Set([0, 1, 2, 3, 4, 5, 6]);
    let rest = tokens;
    if (tokens[0] === 'PH') {
      if (tokens.length === 2 && (tokens[1] === 'off' || tokens[1] === 'closed')) {
        holidaysOff = true;
        continue;
      }
      return null;
    }
    if (/^[A-Z]/.test(tokens[0])) {
      days = parseDays(tokens[0]);
      if (!days) return null;
      rest = tokens.slice(1);
    }
    if (rest.length !== 1) return null;
    let spans;
    if (rest[0] === 'off' || rest[0] === 'closed') {
      spans = [];
    } else {
      spans = parseSpans(rest[0]);
      if (!spans) return null;
    }
    for (const d of days) week[d] = spans.map((s) => [...s]);
  }
  return { week, holidaysOff, always: false };
}

/** Index of a date's weekday with Monday as 0. */
function weekday(date) {
  return (date.getDay() + 6) % 7;
}

/**
 * Whether a parsed schedule is open at a moment (local time of `date`). Public holidays are
 * not known here, so `PH off` does not close a day.
 * @returns {boolean|null} `null` when the schedule is `null` (unknown or unparseable).
 */
export function isOpen(schedule, date = new Date()) {
  if (!schedule) return null;
  if (schedule.always) return true;
  const d = weekday(date);
  const now = date.getHours() * 60 + date.getMinutes();
  if (schedule.week[d].some(([s, e]) => s <= now && now < e)) return true;
  const previous = (d + 6) % 7;
  return schedule.week[previous].some(([, e]) => e > 24 * 60 && now < e - 24 * 60);
}

function clock(m) {
  const v = m % (24 * 60) === 0 && m > 0 ? 24 * 60 : m % (24 * 60);
  const h = String(Math.floor(v / 60)).padStart(2, '0');
  return `${h}:${String(v % 60).padStart(2, '0')}`;
}

/**
 * The schedule in words, one line per group of consecutive days with the same hours.
 * @param {ReturnType<typeof parse>} schedule
 * @param {{days: string[], closed: string, always: string, holidaysOff: string, to: string, colon: string}} words
 *   localised words: day names (Monday first), "closed", "open every day…", "closed on public
 *   holidays", the separator of a day range and the one between days and hours.
 * @returns {string[]}
 */
export function describe(schedule, words) {
  if (!schedule) return [];
  if (schedule.always) return [words.always];
  const key = (spans) => spans.map(([s, e]) => `${s}-${e}`).join(',');
  const lines = [];
  let start = 0;
  for (let d = 1; d <= 7; d++) {
    if (d === 7 || key(schedule.week[d]) !== key(schedule.week[start])) {
      const spans = schedule.week[start];
      const days = start === d - 1 ? words.days[start] : `${words.days[start]}${words.to}${words.days[d - 1]}`;
      const hours = spans.length ? spans.map(([s, e]) => `${clock(s)}–${clock(e)}`).join(', ') : words.closed;
      lines.push(`${days}${words.colon}${hours}`);
      start = d;
    }
  }
  if (schedule.holidaysOff) lines.push(words.holidaysOff);
  return lines;
}

/** Time zones of the overseas départements, by the first three digits of the commune code. */
const OVERSEAS_ZONES = {
  971: 'America/Guadeloupe',
  972: 'America/Martinique',
  973: 'America/Cayenne',
  974: 'Indian/Reunion',
  975: 'America/Miquelon',
  976: 'Indian/Mayotte',
  977: 'America/St_Barthelemy',
  978: 'America/Marigot',
};

/** The time zone of a French commune (INSEE code): opening hours are local to the place. */
export function timeZoneOf(communeCode) {
  return OVERSEAS_ZONES[String(communeCode ?? '').slice(0, 3)] ?? 'Europe/Paris';
}

/**
 * The wall-clock time of `date` in `timeZone`, as a Date whose local fields (day, hours,
 * minutes) are those of the zone: what {@link isOpen} needs.
 */
export function wallClock(date, timeZone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return new Date(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute));
}
