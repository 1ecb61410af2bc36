//! OpenStreetMap `opening_hours`: the common subset, and whether a place is open at a moment
//! in its own time zone. The same grammar as the map page's `frontend/js/opening_hours.mjs`
//! (the tests below share its cases): `24/7`; `;`-separated rules, each an optional weekday
//! selector (`Mo`…`Su`, ranges such as `Mo-Fr` or `Fr-Mo`, lists `Mo,We,Fr`) then time spans
//! (`09:00-12:00,14:00-18:00`, past midnight `22:00-02:00`, `24:00` as an end) or
//! `off`/`closed`; `PH off`. A later rule replaces earlier ones on the days it names. Anything
//! else is unparseable: such a place is never counted as open.

/// Minutes in a day.
const DAY: u16 = 24 * 60;

/// A weekly schedule: for each day (Monday first) its spans in minutes from that day's
/// midnight; an end above 1 440 runs into the next day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Schedule {
    week: [Vec<(u16, u16)>; 7],
    always: bool,
}

fn minutes(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= DAY).then_some(h * 60 + m)
}

const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

fn day(text: &str) -> Option<usize> {
    DAYS.iter().position(|d| *d == text)
}

fn parse_days(selector: &str) -> Option<[bool; 7]> {
    let mut days = [false; 7];
    for part in selector.split(',') {
        let range: Vec<&str> = part.split('-').collect();
        match range.as_slice() {
            [one] => days[day(one)?] = true,
            [from, to] => {
                let (from, to) = (day(from)?, day(to)?);
                let mut d = from;
                loop {
                    days[d] = true;
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            _ => return None,
        }
    }
    Some(days)
}

fn parse_spans(text: &str) -> Option<Vec<(u16, u16)>> {
    text.split(',')
        .map(|part| {
            let (start, end) = part.split_once('-')?;
            let (start, mut end) = (minutes(start)?, minutes(end)?);
            if start >= DAY {
                return None;
            }
            if end <= start {
                end += DAY; // Runs past midnight into the next day.
            }
            Some((start, end))
        })
        .collect()
}

impl Schedule {
    /// Parses an `opening_hours` value; `None` when empty or outside the supported subset.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let source = text.trim();
        if source.is_empty() {
            return None;
        }
        if source == "24/7" {
            return Some(Self {
                week: std::array::from_fn(|_| vec![(0, DAY)]),
                always: true,
            });
        }
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        let mut rules = 0;
        for rule in source.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            rules += 1;
            let tokens: Vec<&str> = rule.split_whitespace().collect();
            if tokens.first() == Some(&"PH") {
                if tokens.len() == 2 && matches!(tokens[1], "off" | "closed") {
                    continue;
                }
                return None;
            }
            let (days, rest) = match tokens.first() {
                Some(t) if t.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    (parse_days(t)?, &tokens[1..])
                }
                _ => ([true; 7], &tokens[..]),
            };
            let [only] = rest else { return None };
            let spans = if matches!(*only, "off" | "closed") {
                Vec::new()
            } else {
                parse_spans(only)?
            };
            for (d, on) in days.iter().enumerate() {
                if *on {
                    week[d].clone_from(&spans);
                }
            }
        }
        (rules > 0).then_some(Self {
            week,
            always: false,
        })
    }

    /// Whether open at wall-clock `weekday` (Monday 0) and `minute` of the day (public
    /// holidays are not known, so `PH off` closes nothing).
    #[must_use]
    pub fn is_open(&self, weekday: usize, minute: u16) -> bool {
        if self.always {
            return true;
        }
        let (d, previous) = (weekday % 7, (weekday + 6) % 7);
        self.week[d].iter().any(|&(s, e)| s <= minute && minute < e)
            || self.week[previous]
                .iter()
                .any(|&(_, e)| e > DAY && minute < e - DAY)
    }
}

/// Time zones of French places, by commune code: metropolitan France (with its summer time),
/// the overseas départements and collectivités.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Zone {
    /// Europe/Paris: UTC+1, UTC+2 from the last Sunday of March to the last of October.
    Paris,
    /// Antilles (Guadeloupe, Martinique, Saint-Barthélemy, Saint-Martin): UTC−4.
    Antilles,
    /// Guyane: UTC−3.
    Guyane,
    /// Saint-Pierre-et-Miquelon: UTC−3, UTC−2 from the second Sunday of March to the first of
    /// November.
    Miquelon,
    /// La Réunion: UTC+4.
    Reunion,
    /// Mayotte: UTC+3.
    Mayotte,
}

impl Zone {
    /// Every zone.
    pub const ALL: [Self; 6] = [
        Self::Paris,
        Self::Antilles,
        Self::Guyane,
        Self::Miquelon,
        Self::Reunion,
        Self::Mayotte,
    ];

    /// The zone of a commune (INSEE code).
    #[must_use]
    pub fn of_commune(code: &str) -> Self {
        match code.get(..3) {
            Some("971" | "972" | "977" | "978") => Self::Antilles,
            Some("973") => Self::Guyane,
            Some("975") => Self::Miquelon,
            Some("974") => Self::Reunion,
            Some("976") => Self::Mayotte,
            _ => Self::Paris,
        }
    }

    /// Wall-clock weekday (Monday 0) and minute of the day at `unix_s` seconds.
    #[must_use]
    pub fn wall_clock(self, unix_s: i64) -> (usize, u16) {
        let hour = 3_600;
        let offset = match self {
            Self::Paris => {
                let year = civil(unix_s).0;
                let start = last_sunday(year, 3) + hour; // 01:00 UTC
                let end = last_sunday(year, 10) + hour;
                if (start..end).contains(&unix_s) {
                    2 * hour
                } else {
                    hour
                }
            }
            Self::Antilles => -4 * hour,
            Self::Guyane => -3 * hour,
            Self::Miquelon => {
                let year = civil(unix_s).0;
                // 02:00 local standard time (UTC−3) = 05:00 UTC; ends 02:00 local summer time.
                let start = nth_sunday(year, 3, 2) + 5 * hour;
                let end = nth_sunday(year, 11, 1) + 4 * hour;
                if (start..end).contains(&unix_s) {
                    -2 * hour
                } else {
                    -3 * hour
                }
            }
            Self::Reunion => 4 * hour,
            Self::Mayotte => 3 * hour,
        };
        let local = unix_s + offset;
        let days = local.div_euclid(86_400);
        // 1970-01-01 was a Thursday (Monday 0 → Thursday 3).
        let weekday = (days + 3).rem_euclid(7) as usize;
        (weekday, (local.rem_euclid(86_400) / 60) as u16)
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil year, month and day of a Unix time.
fn civil(unix_s: i64) -> (i64, i64, i64) {
    let z = unix_s.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn weekday_of_days(days: i64) -> i64 {
    (days + 3).rem_euclid(7) // Monday 0
}

/// Unix time of 00:00 UTC on the last Sunday of a month.
fn last_sunday(year: i64, month: i64) -> i64 {
    let next = if month == 12 {
        days_from_civil(year + 1, 1, 1)
    } else {
        days_from_civil(year, month + 1, 1)
    };
    let last = next - 1;
    (last - (weekday_of_days(last) - 6).rem_euclid(7)) * 86_400
}

/// Unix time of 00:00 UTC on the `n`-th Sunday of a month.
fn nth_sunday(year: i64, month: i64, n: i64) -> i64 {
    let first = days_from_civil(year, month, 1);
    let first_sunday = first + (6 - weekday_of_days(first)).rem_euclid(7);
    (first_sunday + 7 * (n - 1)) * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix time of a UTC civil date and time.
    fn at(y: i64, mo: i64, d: i64, h: i64, mi: i64) -> i64 {
        days_from_civil(y, mo, d) * 86_400 + h * 3_600 + mi * 60
    }

    #[test]
    fn parses_the_same_subset_as_the_map_page() {
        let s = Schedule::parse("Mo-Fr 09:00-12:00,14:00-18:00; Sa 10:00-12:00; PH off")
            .expect("parses");
        assert!(s.is_open(0, 9 * 60));
        assert!(!s.is_open(0, 12 * 60), "end excluded");
        assert!(s.is_open(4, 17 * 60 + 59));
        assert!(s.is_open(5, 11 * 60));
        assert!(!s.is_open(6, 11 * 60));
        let night = Schedule::parse("Fr-Sa 22:00-02:00").expect("parses");
        assert!(night.is_open(5, 60), "Friday night runs into Saturday");
        assert!(night.is_open(6, 90), "and Saturday night into Sunday");
        assert!(!night.is_open(0, 60));
        let wrap = Schedule::parse("Sa-Mo 08:00-24:00").expect("parses");
        assert!(
            wrap.is_open(0, 23 * 60 + 59) && wrap.is_open(6, 8 * 60) && !wrap.is_open(1, 9 * 60)
        );
        let later = Schedule::parse("Mo-Su 09:00-18:00; Su off").expect("parses");
        assert!(!later.is_open(6, 10 * 60) && later.is_open(5, 10 * 60));
        assert!(Schedule::parse("24/7").expect("parses").is_open(3, 3));
        assert!(
            Schedule::parse("10:00-16:00")
                .expect("parses")
                .is_open(2, 600)
        );
        for bad in [
            "",
            "   ",
            "sunrise-sunset",
            "Mo-Fr 9h-18h",
            "Mo-Fr 09:00-25:00",
            "Jan Mo 10:00-12:00",
            "Mo-Fr 09:00-12:00 open",
            "PH 10:00-12:00",
            "Mo-Xx 10:00-12:00",
            "Mo-We-Fr 10:00-12:00",
            ";",
        ] {
            assert_eq!(Schedule::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn wall_clocks_follow_each_zone_and_summer_time() {
        // Monday 2026-03-30 10:00 UTC: Paris is on summer time (12:00), Réunion 14:00.
        let t = at(2026, 3, 30, 10, 0);
        assert_eq!(Zone::Paris.wall_clock(t), (0, 12 * 60));
        assert_eq!(Zone::Reunion.wall_clock(t), (0, 14 * 60));
        assert_eq!(Zone::Mayotte.wall_clock(t), (0, 13 * 60));
        assert_eq!(Zone::Antilles.wall_clock(t), (0, 6 * 60));
        assert_eq!(Zone::Guyane.wall_clock(t), (0, 7 * 60));
        assert_eq!(
            Zone::Miquelon.wall_clock(t),
            (0, 8 * 60),
            "summer time since 8 March"
        );
        // Winter: Friday 2026-01-16 12:00 UTC.
        let w = at(2026, 1, 16, 12, 0);
        assert_eq!(Zone::Paris.wall_clock(w), (4, 13 * 60));
        assert_eq!(Zone::Miquelon.wall_clock(w), (4, 9 * 60));
        // The changes themselves: Paris on 2026-03-29 at 01:00 UTC and 2026-10-25 at 01:00 UTC.
        assert_eq!(Zone::Paris.wall_clock(at(2026, 3, 29, 0, 59)).1, 60 + 59);
        assert_eq!(Zone::Paris.wall_clock(at(2026, 3, 29, 1, 0)).1, 3 * 60);
        assert_eq!(
            Zone::Paris.wall_clock(at(2026, 10, 25, 0, 59)).1,
            2 * 60 + 59
        );
        assert_eq!(Zone::Paris.wall_clock(at(2026, 10, 25, 1, 0)).1, 2 * 60);
        // Across midnight the weekday follows: Sunday 23:30 UTC is Monday 00:30 in Paris.
        assert_eq!(Zone::Paris.wall_clock(at(2026, 1, 18, 23, 30)), (0, 30));
        assert_eq!(civil(at(2024, 2, 29, 12, 0)), (2024, 2, 29));
        assert_eq!(Zone::of_commune("97411"), Zone::Reunion);
        assert_eq!(Zone::of_commune("97502"), Zone::Miquelon);
        assert_eq!(Zone::of_commune("2A004"), Zone::Paris);
    }
}

/// A Unix time as RFC 3339 UTC with second precision (`2026-12-01T19:30:00Z`), the form the
/// store's timestamps use.
#[must_use]
pub fn rfc3339_utc(unix_s: u64) -> String {
    let days = i64::try_from(unix_s / 86_400).unwrap_or(0);
    let rem = unix_s % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod rfc3339_tests {
    #[test]
    fn unix_times_print_as_utc_dates() {
        assert_eq!(super::rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339_utc(1_796_153_400), "2026-12-01T19:30:00Z");
    }
}
