import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, isOpen, describe, timeZoneOf, wallClock } from '../../../frontend/js/opening_hours.mjs';

// 2026-11-23 is a Monday; times are local.
const at = (day, hh, mm = 0) => new Date(2026, 10, 23 + day, hh, mm);
const MON = 0;
const TUE = 1;
const WED = 2;
const SAT = 5;
const SUN = 6;

const words = {
  days: ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'],
  closed: 'fermé',
  always: 'Ouvert 24 h/24, 7 j/7',
  holidaysOff: 'Fermé les jours fériés',
  to: ' au ',
  colon: ' : ',
};

test('weekday ranges with one time span', () => {
  const s = parse('Mo-Fr 09:00-17:00');
  assert.equal(isOpen(s, at(MON, 9, 0)), true, 'opening minute is open');
  assert.equal(isOpen(s, at(MON, 16, 59)), true);
  assert.equal(isOpen(s, at(MON, 17, 0)), false, 'closing minute is closed');
  assert.equal(isOpen(s, at(MON, 8, 59)), false);
  assert.equal(isOpen(s, at(SAT, 10)), false);
});

test('several time spans on the same days', () => {
  const s = parse('Mo-Fr 09:00-12:00,14:00-18:00');
  assert.equal(isOpen(s, at(TUE, 11, 30)), true);
  assert.equal(isOpen(s, at(TUE, 13, 0)), false, 'lunch break');
  assert.equal(isOpen(s, at(TUE, 15, 0)), true);
});

test('lists of days and several rules', () => {
  const s = parse('Tu,Th 17:00-20:00; Sa 10:00-12:00');
  assert.equal(isOpen(s, at(TUE, 18)), true);
  assert.equal(isOpen(s, at(WED, 18)), false);
  assert.equal(isOpen(s, at(SAT, 11)), true);
  assert.equal(isOpen(s, at(SUN, 11)), false);
});

test('a later rule overrides earlier ones on its days, off included', () => {
  const s = parse('Mo-Sa 10:00-19:00; We off; Sa 10:00-12:00');
  assert.equal(isOpen(s, at(MON, 15)), true);
  assert.equal(isOpen(s, at(WED, 15)), false, 'We off');
  assert.equal(isOpen(s, at(SAT, 15)), false, 'Saturday shortened');
  assert.equal(isOpen(s, at(SAT, 11)), true);
  assert.equal(isOpen(parse('Mo-Fr 08:00-12:00; Su closed'), at(SUN, 9)), false);
});

test('24/7 is always open and times without days apply every day', () => {
  const always = parse('24/7');
  assert.equal(isOpen(always, at(SUN, 3)), true);
  assert.deepEqual(describe(always, words), ['Ouvert 24 h/24, 7 j/7']);
  const daily = parse('10:00-18:00');
  assert.equal(isOpen(daily, at(SUN, 12)), true);
  assert.equal(isOpen(daily, at(WED, 9)), false);
});

test('spans past midnight continue into the next day, and 24:00 ends a day', () => {
  const s = parse('Fr-Sa 20:00-02:00');
  const FRI = 4;
  assert.equal(isOpen(s, at(FRI, 23)), true);
  assert.equal(isOpen(s, at(SAT, 1, 30)), true, 'after midnight, from Friday');
  assert.equal(isOpen(s, at(SUN, 1, 30)), true, 'after midnight, from Saturday');
  assert.equal(isOpen(s, at(SUN, 2, 0)), false);
  assert.equal(isOpen(s, at(MON, 1)), false);
  assert.equal(isOpen(parse('Mo 18:00-24:00'), at(MON, 23, 59)), true);
  assert.equal(isOpen(parse('Mo 18:00-24:00'), at(TUE, 0, 1)), false);
});

test('wrapping day ranges such as Sa-Mo', () => {
  const s = parse('Sa-Mo 10:00-12:00');
  assert.equal(isOpen(s, at(SUN, 11)), true);
  assert.equal(isOpen(s, at(MON, 11)), true);
  assert.equal(isOpen(s, at(TUE, 11)), false);
});

test('PH off is understood and described, but does not close ordinary days', () => {
  const s = parse('Mo-Fr 09:00-17:00; PH off');
  assert.equal(s.holidaysOff, true);
  assert.equal(isOpen(s, at(MON, 10)), true);
  assert.deepEqual(describe(s, words), ['lundi au vendredi : 09:00–17:00', 'samedi au dimanche : fermé', 'Fermé les jours fériés']);
});

test('unparseable or empty values are null and never open', () => {
  for (const bad of [
    'sunrise-sunset',
    'Mo-Fr 9h-17h',
    'Jan-Mar Mo 10:00-12:00',
    'Mo-Fr 09:00-17:00 "sur rendez-vous"',
    'PH 10:00-12:00',
    'Xx 10:00-12:00',
    'Mo 25:00-26:00',
    'Mo 10:00',
    '',
    '   ',
    null,
    undefined,
  ]) {
    const s = parse(bad);
    assert.equal(s, null, String(bad));
    assert.equal(isOpen(s, at(MON, 10)), null, String(bad));
    assert.deepEqual(describe(s, words), []);
  }
});

test('descriptions group consecutive days with the same hours', () => {
  assert.deepEqual(describe(parse('Tu-Sa 10:00-18:00'), words), [
    'lundi : fermé',
    'mardi au samedi : 10:00–18:00',
    'dimanche : fermé',
  ]);
  assert.deepEqual(describe(parse('Mo-Fr 09:00-12:00,14:00-18:00'), words)[0], 'lundi au vendredi : 09:00–12:00, 14:00–18:00');
  assert.deepEqual(describe(parse('Mo 18:00-24:00'), words)[0], 'lundi : 18:00–24:00');
});

test('every demonstration value parses', () => {
  for (const v of [
    'Mo-Fr 09:00-17:00',
    'Tu-Sa 10:00-18:00',
    'We,Sa 14:00-18:00',
    'Mo-Fr 09:00-12:00,14:00-18:00',
    'Sa 09:00-13:00',
    'Mo-Su 08:00-20:00',
    'Tu,Th 17:00-20:00; Sa 10:00-12:00',
  ]) {
    assert.notEqual(parse(v), null, v);
  }
});

test('opening hours are read in the time zone of the place', () => {
  assert.equal(timeZoneOf('44109'), 'Europe/Paris');
  assert.equal(timeZoneOf('2A004'), 'Europe/Paris');
  assert.equal(timeZoneOf('97411'), 'Indian/Reunion');
  assert.equal(timeZoneOf('97209'), 'America/Martinique');
  assert.equal(timeZoneOf(undefined), 'Europe/Paris');
  // 2026-11-23 08:30 UTC is a Monday: 09:30 in Paris, 12:30 in La Réunion, 04:30 in Martinique.
  const instant = new Date(Date.UTC(2026, 10, 23, 8, 30));
  const paris = wallClock(instant, 'Europe/Paris');
  assert.deepEqual([paris.getDay(), paris.getHours(), paris.getMinutes()], [1, 9, 30]);
  assert.equal(wallClock(instant, 'Indian/Reunion').getHours(), 12);
  assert.equal(wallClock(instant, 'America/Martinique').getHours(), 4);
  const s = parse('Mo-Fr 09:00-12:00');
  assert.equal(isOpen(s, wallClock(instant, 'Europe/Paris')), true);
  assert.equal(isOpen(s, wallClock(instant, 'Indian/Reunion')), false);
  assert.equal(isOpen(s, wallClock(instant, 'America/Martinique')), false);
});
