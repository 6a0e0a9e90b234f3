"""Answers to "when did it start?": exactly what the customer knew, and the hours it may mean.

A moment is a date, and a time or a part of the day or neither, in JST, UTC or "not sure".
It is kept as typed (``2021-10-13T1600_jst``, ``2021-10-13_evening_any``, ``2021-10-13_jst``)
and read as one or more intervals in UTC: a day is 24 hours, an evening six, an exact time
one minute; with "not sure" both the JST and the UTC reading count. An incident's window
that overlaps them is possible; one that holds every reading is certain.
"""

import datetime as dt
import re
from dataclasses import dataclass

ZONES = {"jst": dt.timezone(dt.timedelta(hours=9)), "utc": dt.UTC}
PARTS = {"night": (0, 6), "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24)}
VALUE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2})(\d{2})|_(night|morning|afternoon|evening))?_(jst|utc|any)$")
OLD_VALUE = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})Z$")  # links made before: an exact UTC time


@dataclass(frozen=True)
class Moment:
    day: dt.date
    time: dt.time | None = None
    part: str = ""
    zone: str = "jst"  # jst, utc or any ("not sure")

    def encode(self) -> str:
        middle = f"T{self.time:%H%M}" if self.time else f"_{self.part}" if self.part else ""
        return f"{self.day.isoformat()}{middle}_{self.zone}"

    def intervals(self):
        """[(start, end)] in UTC that the answer may mean."""
        zones = list(ZONES.values()) if self.zone == "any" else [ZONES[self.zone]]
        found = []
        for zone in zones:
            if self.time:
                start = dt.datetime.combine(self.day, self.time, tzinfo=zone)
                end = start + dt.timedelta(minutes=1)
            else:
                first, last = PARTS.get(self.part, (0, 24))
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
            return Moment(dt.date.fromisoformat(day), dt.time(int(hours), int(minutes)), zone="utc")
        match = VALUE.match(value)
        if not match:
            return None
        day, hours, minutes, part, zone = match.groups()
        clock = dt.time(int(hours), int(minutes)) if hours else None
        return Moment(dt.date.fromisoformat(day), clock, part or "", zone)
    except ValueError:  # 2021-02-30, 25:00
        return None


def from_form(date_text, time_text, part, zone) -> Moment | None:
    """What the "when" form posted: a date, and an optional time or part of the day."""
    try:
        day = dt.date.fromisoformat((date_text or "").strip()[:10])
        clock = dt.time.fromisoformat(time_text.strip()[:5]) if (time_text or "").strip() else None
    except ValueError:
        return None
    if zone not in (*ZONES, "any"):
        zone = "jst"
    return Moment(day, clock, "" if clock else part if part in PARTS else "", zone)


def overlap(moment: Moment, window) -> str:
    """ "inside" when every reading of the moment lies in the window, "overlaps" when some
    does, else "outside"."""
    start, end = window
    inside = [start <= lo and hi <= end + dt.timedelta(minutes=1) for lo, hi in moment.intervals()]
    touching = [lo < end and start < hi for lo, hi in moment.intervals()]
    if all(inside):
        return "inside"
    return "overlaps" if any(touching) else "outside"


def describe(moment: Moment, lang: str) -> str:
    """The answer as the customer gave it."""
    day = moment.day.isoformat()
    parts_ja = {"night": "深夜", "morning": "午前", "afternoon": "午後", "evening": "夕方から夜"}
    zone = {"jst": "JST", "utc": "UTC", "any": "JST か UTC か不明" if lang == "ja" else "JST or UTC, not sure"}[
        moment.zone
    ]
    if moment.time:
        return f"{day} {moment.time:%H:%M} ({zone})"
    if moment.part:
        return f"{day} {parts_ja[moment.part] if lang == 'ja' else moment.part} ({zone})"
    return f"{day} ({'時刻不明' if lang == 'ja' else 'time unknown'}, {zone})"
