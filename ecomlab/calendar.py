"""The Chinese retail calendar for any year, and any other market's calendar.

:func:`promotion_calendar` returns a tidy frame of promotion periods (one row per
window: ``year, name, name_en, start_date, end_date, peak_date, days``) that
:func:`ecomlab.kpi.promo_days` and the alerts accept. The Chinese calendar
(:data:`CHINA_RETAIL`) has 年货节 (New-Year goods festival, tied to the Spring Festival),
38节 (Women's day), 618, 99, 双11 and 双12; pass ``events=`` with your market's
:class:`Promotion` rules (or a frame of concrete windows) instead.

The Spring Festival (春节, first day of the first lunar month) is computed, not listed:
:func:`spring_festival` applies the rule of the Chinese calendar standard GB/T
33661-2017 《农历的编算和颁行》 — months start on the day (Beijing time, UTC+8) of a
new moon; the month holding the winter solstice is month 11; when 13 months fall
between two month-11 starts, the first without a principal solar term (中气, solar
longitude a multiple of 30°) is the leap month; month 1 follows month 12. New moons
come from Meeus, *Astronomical Algorithms* (2nd ed. 1998), ch. 49 (error < 1 min, with
the planetary terms), solar longitude from ch. 25 (low-accuracy series, ±0.01° ≈ 15
min), ΔT from Espenak & Meeus (2006). The tests compare it with the Hong Kong
Observatory's Gregorian–lunar conversion tables for 1990–2035.

>>> spring_festival(2024).date(), spring_festival(2025).date(), spring_festival(2033).date()
(datetime.date(2024, 2, 10), datetime.date(2025, 1, 29), datetime.date(2033, 1, 31))
>>> cal = promotion_calendar(2026)
>>> cal[["name", "start_date", "end_date"]].astype(str).values.tolist()[:2]
[['年货节', '2026-01-22', '2026-02-09'], ['38节', '2026-03-08', '2026-03-08']]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["spring_festival", "new_moons", "Promotion", "CHINA_RETAIL", "promotion_calendar"]

_RAD = np.pi / 180.0
_UNIX_JD = 2440587.5  # Julian Day of 1970-01-01 00:00 UTC
_BEIJING = 8.0 / 24.0  # UTC+8 in days


def _delta_t_days(year: np.ndarray) -> np.ndarray:
    """TT − UT in days (Espenak & Meeus 2006 polynomials for 1986–2050, long-term parabola outside)."""
    y = np.asarray(year, dtype=float)
    t = y - 2000.0
    mid = 62.92 + 0.32217 * t + 0.005589 * t**2
    recent = 63.86 + 0.3345 * t - 0.060374 * t**2 + 0.0017275 * t**3 + 0.000651814 * t**4 + 0.00002373599 * t**5
    u = (y - 1820.0) / 100.0
    far = -20.0 + 32.0 * u**2
    secs = np.where((y >= 2005) & (y < 2050), mid, np.where((y >= 1986) & (y < 2005), recent, far))
    return secs / 86400.0


def new_moons(k: np.ndarray) -> np.ndarray:
    """Julian Ephemeris Days of the new moons of lunation numbers ``k`` (k = 0: 2000-01-06).

    Meeus (1998), ch. 49, eq. 49.1 with the periodic and planetary corrections.

    >>> round(float(new_moons(np.array([-283]))[0]), 2)  # Meeus example 49.a: 1977-02-18
    2443192.65
    """
    k = np.asarray(k, dtype=float)
    T = k / 1236.85
    jde = 2451550.09766 + 29.530588861 * k + 0.00015437 * T**2 - 0.000000150 * T**3 + 0.00000000073 * T**4
    E = 1 - 0.002516 * T - 0.0000074 * T**2
    M = (2.5534 + 29.10535670 * k - 0.0000014 * T**2 - 0.00000011 * T**3) * _RAD
    Mp = (201.5643 + 385.81693528 * k + 0.0107582 * T**2 + 0.00001238 * T**3 - 0.000000058 * T**4) * _RAD
    F = (160.7108 + 390.67050284 * k - 0.0016118 * T**2 - 0.00000227 * T**3 + 0.000000011 * T**4) * _RAD
    Om = (124.7746 - 1.56375588 * k + 0.0020672 * T**2 + 0.00000215 * T**3) * _RAD
    s = np.sin
    corr = (-0.40720 * s(Mp) + 0.17241 * E * s(M) + 0.01608 * s(2 * Mp) + 0.01039 * s(2 * F)
            + 0.00739 * E * s(Mp - M) - 0.00514 * E * s(Mp + M) + 0.00208 * E**2 * s(2 * M)
            - 0.00111 * s(Mp - 2 * F) - 0.00057 * s(Mp + 2 * F) + 0.00056 * E * s(2 * Mp + M)
            - 0.00042 * s(3 * Mp) + 0.00042 * E * s(M + 2 * F) + 0.00038 * E * s(M - 2 * F)
            - 0.00024 * E * s(2 * Mp - M) - 0.00017 * s(Om) - 0.00007 * s(Mp + 2 * M)
            + 0.00004 * s(2 * Mp - 2 * F) + 0.00004 * s(3 * M) + 0.00003 * s(Mp + M - 2 * F)
            + 0.00003 * s(2 * Mp + 2 * F) - 0.00003 * s(Mp + M + 2 * F) + 0.00003 * s(Mp - M + 2 * F)
            - 0.00002 * s(Mp - M - 2 * F) - 0.00002 * s(3 * Mp + M) + 0.00002 * s(4 * Mp))
    A = np.array([
        (299.77, 0.107408, 0.000325), (251.88, 0.016321, 0.000165), (251.83, 26.651886, 0.000164),
        (349.42, 36.412478, 0.000126), (84.66, 18.206239, 0.000110), (141.74, 53.303771, 0.000062),
        (207.14, 2.453732, 0.000060), (154.84, 7.306860, 0.000056), (34.52, 27.261239, 0.000047),
        (207.19, 0.121824, 0.000042), (291.34, 1.844379, 0.000040), (161.72, 24.198154, 0.000037),
        (239.56, 25.513099, 0.000035), (331.55, 3.592518, 0.000023),
    ])
    arg = (A[:, 0:1] + A[:, 1:2] * k[None, :]) * _RAD
    arg[0] -= 0.009173 * T**2 * _RAD
    planetary = (A[:, 2:3] * np.sin(arg)).sum(axis=0)
    return jde + corr + planetary


def _sun_longitude(jde: np.ndarray) -> np.ndarray:
    """Apparent geocentric longitude of the Sun in degrees (Meeus 1998, ch. 25, low accuracy)."""
    T = (np.asarray(jde, dtype=float) - 2451545.0) / 36525.0
    L0 = 280.46646 + 36000.76983 * T + 0.0003032 * T**2
    M = (357.52911 + 35999.05029 * T - 0.0001537 * T**2) * _RAD
    C = ((1.914602 - 0.004817 * T - 0.000014 * T**2) * np.sin(M) + (0.019993 - 0.000101 * T) * np.sin(2 * M)
         + 0.000289 * np.sin(3 * M))
    om = (125.04 - 1934.136 * T) * _RAD
    return L0 + C - 0.00569 - 0.00478 * np.sin(om)


def _spring_festival_one(year: int) -> np.datetime64:
    k0 = int(np.floor((year - 1 - 2000 + 10 / 12) * 12.3685)) - 1  # a new moon in October of year - 1
    k = np.arange(k0, k0 + 17)
    jde = new_moons(k)
    ut = jde - _delta_t_days(np.full(len(k), year))
    day = np.floor(ut + 0.5 + _BEIJING)  # Beijing civil day number (JD of its noon)
    start_jd_ut = day - 0.5 - _BEIJING  # 00:00 Beijing, in UT
    lam = np.unwrap(_sun_longitude(start_jd_ut + _delta_t_days(np.full(len(k), year))), period=360.0)
    # month i = [day_i, day_{i+1}); it holds solar longitude values lam_i .. lam_{i+1}
    z = np.floor(lam / 30.0)
    has_zhongqi = z[1:] > z[:-1]
    solstice = np.floor((lam - 270.0) / 360.0)
    holds_ws = np.flatnonzero(solstice[1:] > solstice[:-1])
    if len(holds_ws) < 2:  # pragma: no cover - the window always spans two solstices
        raise RuntimeError(f"could not place two winter solstices around {year}")
    a, b = int(holds_ws[0]), int(holds_ws[1])
    first_month = a + 2
    if b - a == 13:
        leap = a + 1 + int(np.argmax(~has_zhongqi[a + 1:b]))
        if leap <= a + 2:  # leap 11th or 12th month: month 1 comes one lunation later
            first_month = a + 3
    jd = day[first_month]
    return np.datetime64(int(round(jd - 0.5 - _UNIX_JD)), "D")


def spring_festival(year: int | Iterable[int]) -> pd.Timestamp | pd.DatetimeIndex:
    """The Spring Festival (春节, Chinese New Year's day) of a Gregorian year, or of each year.

    Computed astronomically (module docstring): valid for any year the Meeus series
    cover (about 1000–3000); ``ValueError`` outside 1000–3000.

    >>> spring_festival([2024, 2025, 2026]).strftime("%Y-%m-%d").tolist()
    ['2024-02-10', '2025-01-29', '2026-02-17']
    """
    scalar = np.ndim(year) == 0
    years = np.atleast_1d(np.asarray(year))
    if not np.issubdtype(years.dtype, np.integer):
        raise ValueError(f"year must be an integer year, got {year!r}")
    if ((years < 1000) | (years > 3000)).any():
        raise ValueError(f"year must be within 1000-3000, got {year!r}")
    days = np.array([_spring_festival_one(int(y)) for y in years], dtype="datetime64[D]")
    idx = pd.DatetimeIndex(days.astype("datetime64[us]"))
    return idx[0] if scalar else idx


DateRule = str | Callable[[int], pd.Timestamp]


@dataclass(frozen=True)
class Promotion:
    """One recurring promotion: ``start`` / ``end`` (inclusive) as ``"MM-DD"`` or a
    function of the year returning a date; ``peak`` (the main day) likewise, default ``end``.

    >>> black_friday = lambda y: pd.Timestamp(f"{y}-10-31") + pd.offsets.Week(4, weekday=3) + pd.Timedelta(days=1)
    >>> Promotion("Black Friday", black_friday, black_friday).window(2025)[:2]
    (Timestamp('2025-11-28 00:00:00'), Timestamp('2025-11-28 00:00:00'))
    """

    name: str
    start: DateRule
    end: DateRule
    name_en: str = ""
    peak: DateRule | None = None

    def window(self, year: int) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
        """(first day, last day, peak day) in ``year``."""
        def at(rule: DateRule) -> pd.Timestamp:
            if callable(rule):
                return pd.Timestamp(rule(year)).normalize()
            return pd.Timestamp(f"{year}-{rule}")
        a, b = at(self.start), at(self.end)
        if b < a:
            raise ValueError(f"promotion {self.name!r} ends ({b:%Y-%m-%d}) before it starts ({a:%Y-%m-%d}) in {year}")
        return a, b, at(self.peak) if self.peak is not None else b


def _nianhuo(offset: int) -> Callable[[int], pd.Timestamp]:
    return lambda y: spring_festival(y) + pd.Timedelta(days=offset)


#: The Chinese retail calendar. 年货节 runs from 26 to 8 days before the Spring Festival
#: (platforms stop most deliveries about a week before it); 618 and 双11 include their
#: pre-sale run-ups (from 06-01 and 10-31); 38节, 99 and 双12 are one day each.
CHINA_RETAIL: tuple[Promotion, ...] = (
    Promotion("年货节", _nianhuo(-26), _nianhuo(-8), "New-Year goods festival"),
    Promotion("38节", "03-08", "03-08", "Women's day"),
    Promotion("618", "06-01", "06-18", "618 mid-year sale"),
    Promotion("99", "09-09", "09-09", "99 sale"),
    Promotion("双11", "10-31", "11-11", "Singles' Day"),
    Promotion("双12", "12-12", "12-12", "Double 12"),
)


def promotion_calendar(
    years: int | Iterable[int],
    events: Sequence[Promotion] | pd.DataFrame = CHINA_RETAIL,
) -> pd.DataFrame:
    """Tidy frame of promotion periods for ``years``: one row per window, in date order.

    Columns ``year, name, name_en, start_date, end_date, peak_date`` (``datetime64[us]``
    days) and ``days`` (window length). ``events``: recurring rules (default
    :data:`CHINA_RETAIL`), or a frame of concrete windows with ``name, start_date,
    end_date`` (another market's or your shop's own calendar), checked and kept for ``years``.

    >>> promotion_calendar([2024, 2025]).query("name == '年货节'")[["start_date", "end_date"]].astype(str).values.tolist()
    [['2024-01-15', '2024-02-02'], ['2025-01-03', '2025-01-21']]
    """
    ys = sorted({int(y) for y in np.atleast_1d(np.asarray(years))})
    if not ys:
        raise ValueError("years must name at least one year")
    if isinstance(events, pd.DataFrame):
        missing = [c for c in ("name", "start_date", "end_date") if c not in events.columns]
        if missing:
            raise ValueError(f"events is missing column(s) {missing}; it has {list(events.columns)}")
        try:
            a = pd.to_datetime(events["start_date"]).dt.normalize()
            b = pd.to_datetime(events["end_date"]).dt.normalize()
        except (TypeError, ValueError) as e:
            raise ValueError(f"events.start_date/end_date must be dates: {e}") from None
        if (b < a).any():
            i = int(np.argmax((b < a).to_numpy()))
            raise ValueError(f"events row {i}: {events['name'].iloc[i]!r} ends before it starts")
        out = pd.DataFrame({"year": a.dt.year, "name": events["name"].astype(str),
                            "name_en": events["name_en"].astype(str) if "name_en" in events else "",
                            "start_date": a, "end_date": b,
                            "peak_date": pd.to_datetime(events["peak_date"]) if "peak_date" in events else b})
        out = out[out["year"].isin(ys)]
    else:
        if not events:
            raise ValueError("events must hold at least one Promotion")
        rows = [(y, e.name, e.name_en, *e.window(y)) for y in ys for e in events]
        out = pd.DataFrame(rows, columns=["year", "name", "name_en", "start_date", "end_date", "peak_date"])
    for c in ("start_date", "end_date", "peak_date"):
        out[c] = out[c].astype("datetime64[us]")
    out["days"] = ((out["end_date"] - out["start_date"]).dt.days + 1).astype("int64")
    out["year"] = out["year"].astype("int64")
    out["name"] = out["name"].astype("str")
    out["name_en"] = out["name_en"].astype("str")
    return out.sort_values(["start_date", "name"], kind="stable").reset_index(drop=True)
