"""Answers to "when did it start?": exactly what the customer knew, and the hours it may mean.

A moment is a date, and a time or a part of the day or neither, in JST, UTC or "not sure".
It is kept as typed (``2021-10-13T1600_jst``, ``2021-10-13~evening_any``, ``2021-10-13_jst``)
and read as one or more intervals in UTC: a day is 24 hours, a part of the day its hours, an
exact time one minute; with "not sure" both the JST and the UTC reading count.

The parts of the day are those a Japanese customer uses: 夕方 (evening) and 夜 (night) are
different. They overlap as the words do (昼 and 午後 share noon to two). Links made before
named four parts with ``_part_`` (``_evening_`` was 18–24, ``_night_`` 0–6); such a link is
read with the hours it had then, and says so in its wording.

Wording goes through Django's translations (the page's language), never a language test.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ZONES = {"jst": dt.timezone(dt.timedelta(hours=9)), "utc": dt.UTC}
# part id: (first hour, last hour, label); the order is the form's.
PARTS = {
    "early-morning": (5, 8, gettext_lazy("early morning (5–8)")),
    "morning": (6, 12, gettext_lazy("morning (6–12)")),
    "noon": (11, 14, gettext_lazy("around noon (11–14)")),
    "afternoon": (12, 18, gettext_lazy("afternoon (12–18)")),
    "evening": (16, 19, gettext_lazy("evening (16–19)")),
    "night": (19, 24, gettext_lazy("night (19–24)")),
    "late-night": (0, 5, gettext_lazy("late night (0–5)")),
}
OLD_PARTS = {  # links made before (``_part_``)
    "morning": (6, 12, gettext_lazy("morning (6–12)")),
    "afternoon": (12, 18, gettext_lazy("afternoon (12–18)")),
    "evening": (18, 24, gettext_lazy("evening to night (18–24)")),
    "night": (0, 6, gettext_lazy("late night (0–6)")),
}
VALUE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2})(\d{2})|~([a-z-]+)|_(night|morning|afternoon|evening))?_(jst|utc|any)$"
)
OLD_VALUE = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})Z$")  # links made before: an exact UTC time
# Days a moment may name: wide enough for any real failure, narrow enough that every reading
# in every zone is a datetime (9999-12-31 in JST would run past the last one).
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(2999, 12, 31)


@dataclass(frozen=True)
class Moment:
    day: dt.date
    time: dt.time | None = None
    part: str = ""
    zone: str = "jst"  # jst, utc or any ("not sure")
    old_part: bool = False  # the part as links named it before (OLD_PARTS)

    def encode(self) -> str:
        if self.time:
            middle = f"T{self.time:%H%M}"
        elif self.part:
            middle = f"_{self.part}" if self.old_part else f"~{self.part}"
        else:
            middle = ""
        return f"{self.day.isoformat()}{middle}_{self.zone}"

    @property
    def hours(self):
        """(first, last) hour of the day the answer may mean."""
        if self.part:
            first, last, _label = (OLD_PARTS if self.old_part else PARTS)[self.part]
            return first, last
        return 0, 24

    def intervals(self):
        """[(start, end)] in UTC that the answer may mean."""
        zones = list(ZONES.values()) if self.zone == "any" else [ZONES[self.zone]]
        found = []
        for zone in zones:
            if self.time:
                start = dt.datetime.combine(self.day, self.time, tzinfo=zone)
                end = start + dt.timedelta(minutes=1)
            else:
                first, last = self.hours
                midnight = dt.datetime.combine(self.day, dt.time(0), tzinfo=zone)
                start, end = midnight + dt.timedelta(hours=first), midnight + dt.timedelta(hours=last)
            found.append((start.astimezone(dt.UTC), end.astimezone(dt.UTC)))
        return found

    @property
    def exact(self):
        return self.time is not None and self.zone != "any"


def parse(value: str) -> Moment | None:
    """A moment from its encoding, or None for anything else (a tampered link)."""
    old = OLD_VALUE.match(value)
    try:
        if old:
            day, hours, minutes = old.groups()
            moment = Moment(dt.date.fromisoformat(day), dt.time(int(hours), int(minutes)), zone="utc")
            return moment if FIRST_DAY <= moment.day <= LAST_DAY else None
        match = VALUE.match(value)
        if not match:
            return None
        day, hours, minutes, part, old_part, zone = match.groups()
        if part and part not in PARTS:
            return None
        clock = dt.time(int(hours), int(minutes)) if hours else None
        moment = Moment(dt.date.fromisoformat(day), clock, part or old_part or "", zone, bool(old_part))
    except (ValueError, OverflowError):  # 2021-02-30, 25:00
        return None
    return moment if FIRST_DAY <= moment.day <= LAST_DAY else None


def from_form(date_text, time_text, part, zone) -> Moment | None:
    """What the "when" form posted: a date, and an optional time or part of the day."""
    try:
        day = dt.date.fromisoformat((date_text or "").strip()[:10])
        clock = clock_of(time_text) if (time_text or "").strip() else None
    except ValueError:
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        return None
    if zone not in (*ZONES, "any"):
        zone = "jst"
    return Moment(day, clock, "" if clock else part if part in PARTS else "", zone)


def clock_of(text: str) -> dt.time:
    """A time as a form sends it (``16:00``, ``7:40``, ``16:00:30``)."""
    hours, _colon, minutes = text.strip().partition(":")
    return dt.time(int(hours), int(minutes[:2]))


def overlap(moment: Moment, window) -> str:
    """ "inside" when every reading of the moment lies in the window, "overlaps" when some
    does, else "outside"."""
    share = overlap_share(moment, window)
    if share >= 1:
        return "inside"
    return "overlaps" if share > 0 else "outside"


def overlap_share(moment: Moment, window) -> float:
    """How much of what the moment may mean lies in the window, from 0 (none) to 1 (all): an
    exact time inside is 1, a day that holds a six-hour window 0.25, "not sure" of the zone
    the mean of both readings."""
    start, end = window
    shares = []
    for lo, hi in moment.intervals():
        if moment.time:  # one minute: inside or not (the window's last minute counts)
            shares.append(1.0 if start <= lo <= end else 0.0)
            continue
        common = (min(hi, end) - max(lo, start)).total_seconds()
        shares.append(max(0.0, common) / (hi - lo).total_seconds())
    return sum(shares) / len(shares)


def zone_text(zone: str) -> str:
    return {"jst": "JST", "utc": "UTC"}.get(zone) or _("JST or UTC, not sure")


def part_text(moment: Moment) -> str:
    return str((OLD_PARTS if moment.old_part else PARTS)[moment.part][2])


def describe(moment: Moment, lang: str = "") -> str:
    """The answer as the customer gave it, in the active language (``lang`` if given)."""
    from django.utils import translation

    if lang:
        with translation.override(lang):
            return describe(moment)
    day, zone = moment.day.isoformat(), zone_text(moment.zone)
    if moment.time:
        return f"{day} {moment.time:%H:%M} ({zone})"
    if moment.part:
        return f"{day} {part_text(moment)} ({zone})"
    unknown = _("time unknown")  # outside the f-string, so that makemessages finds it
    return f"{day} ({unknown}, {zone})"
