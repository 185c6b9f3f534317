"""ecomlab.calendar: the Spring Festival computed for any year, the retail calendar, other markets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecomlab import calendar, kpi

# Spring Festival (正月初一) dates from the Hong Kong Observatory's Gregorian-lunar calendar
# conversion tables (1901-2100), transcribed for 1990-2035. The lunar year starting in 2033
# has a leap 11th month (the "2033 problem"): the naive rule "second new moon after the
# winter solstice" gets 2034 wrong (it gives 2034-01-20), the standard's leap rule does not.
HKO = {
    1990: "01-27", 1991: "02-15", 1992: "02-04", 1993: "01-23", 1994: "02-10", 1995: "01-31", 1996: "02-19",
    1997: "02-07", 1998: "01-28", 1999: "02-16", 2000: "02-05", 2001: "01-24", 2002: "02-12", 2003: "02-01",
    2004: "01-22", 2005: "02-09", 2006: "01-29", 2007: "02-18", 2008: "02-07", 2009: "01-26", 2010: "02-14",
    2011: "02-03", 2012: "01-23", 2013: "02-10", 2014: "01-31", 2015: "02-19", 2016: "02-08", 2017: "01-28",
    2018: "02-16", 2019: "02-05", 2020: "01-25", 2021: "02-12", 2022: "02-01", 2023: "01-22", 2024: "02-10",
    2025: "01-29", 2026: "02-17", 2027: "02-06", 2028: "01-26", 2029: "02-13", 2030: "02-03", 2031: "01-23",
    2032: "02-11", 2033: "01-31", 2034: "02-19", 2035: "02-08",
}


def test_spring_festival_matches_the_observatory_table():
    got = calendar.spring_festival(list(HKO)).strftime("%m-%d").tolist()
    assert dict(zip(HKO, got, strict=True)) == HKO


def test_spring_festival_scalar_and_range():
    d = calendar.spring_festival(2024)
    assert isinstance(d, pd.Timestamp) and d == pd.Timestamp("2024-02-10")
    many = calendar.spring_festival(range(1900, 2101))
    assert len(many) == 201
    # always between Jan 21 and Feb 20 (the lunisolar rule's window)
    doy = many.day_of_year
    assert doy.min() >= 21 and doy.max() <= 51
    # consecutive festivals are 12 or 13 lunations apart (354/355 or 383/384 days)
    gaps = np.diff(many.values).astype("timedelta64[D]").astype(int)
    assert set(gaps) <= {353, 354, 355, 383, 384, 385}


@pytest.mark.parametrize("bad", [999, 3001, 2024.5, "2024"])
def test_spring_festival_rejects_bad_years(bad):
    with pytest.raises(ValueError, match="year"):
        calendar.spring_festival(bad)


def test_new_moon_matches_meeus_example():
    # Meeus, Astronomical Algorithms, example 49.a: new moon of 1977 Feb, JDE 2443192.65118
    assert calendar.new_moons(np.array([-283]))[0] == pytest.approx(2443192.65118, abs=2e-4)


def test_chinese_calendar_any_year_is_tidy():
    cal = calendar.promotion_calendar(range(2023, 2031))
    assert list(cal.columns) == ["year", "name", "name_en", "start_date", "end_date", "peak_date", "days"]
    assert len(cal) == 8 * 6
    assert set(cal["name"]) == {"年货节", "38节", "618", "99", "双11", "双12"}
    assert (cal["end_date"] >= cal["start_date"]).all()
    assert cal["start_date"].is_monotonic_increasing
    for c in ("start_date", "end_date", "peak_date"):
        assert str(cal[c].dtype) == "datetime64[us]"
    nh = cal[cal["name"] == "年货节"].set_index("year")
    sf = pd.Series(calendar.spring_festival(list(nh.index)), index=nh.index)
    assert ((sf - nh["end_date"]).dt.days == 8).all()  # tied to the Spring Festival, every year
    assert ((sf - nh["start_date"]).dt.days == 26).all()
    d11 = cal[cal["name"] == "双11"]
    assert (d11["end_date"].dt.strftime("%m-%d") == "11-11").all() and (d11["days"] == 12).all()


def test_nestwell_years_cover_the_simulated_promotion_days():
    """The computed calendar agrees with the windows Nestwell was simulated with, except
    年货节, whose Nestwell windows were set by hand (2024: 01-15..02-02; 2025: 01-06..01-24)."""
    from ecomlab import simulate

    ours = calendar.promotion_calendar([2024, 2025])
    ours = ours[ours["name"] != "年货节"]
    theirs = simulate.promo_calendar()
    theirs = theirs[~theirs["name"].str.startswith("年货节")]
    assert kpi.promo_days(ours).equals(kpi.promo_days(theirs))


def test_another_market_as_rules_and_as_a_frame():
    thanksgiving = lambda y: pd.Timestamp(f"{y}-10-31") + pd.offsets.Week(4, weekday=3)  # noqa: E731
    us = [calendar.Promotion("Black Friday", lambda y: thanksgiving(y) + pd.Timedelta(days=1),
                             lambda y: thanksgiving(y) + pd.Timedelta(days=4), "BFCM"),
          calendar.Promotion("Prime Day", "07-16", "07-17")]
    cal = calendar.promotion_calendar([2024, 2025], events=us)
    bf = cal[cal["name"] == "Black Friday"]
    assert bf["start_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-11-29", "2025-11-28"]
    assert bf["end_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-12-02", "2025-12-01"]
    frame = pd.DataFrame({"name": ["Boxing Day", "Boxing Day"], "start_date": ["2024-12-26", "2025-12-26"],
                          "end_date": ["2024-12-26", "2025-12-26"]})
    got = calendar.promotion_calendar(2025, events=frame)
    assert got["start_date"].tolist() == [pd.Timestamp("2025-12-26")] and got["days"].tolist() == [1]
    assert len(kpi.promo_days(got)) == 1


def test_calendar_errors_name_the_problem():
    with pytest.raises(ValueError, match="ends .* before it starts"):
        calendar.promotion_calendar(2025, events=[calendar.Promotion("x", "05-02", "05-01")])
    with pytest.raises(ValueError, match="missing column"):
        calendar.promotion_calendar(2025, events=pd.DataFrame({"name": ["x"]}))
    with pytest.raises(ValueError, match="ends before it starts"):
        calendar.promotion_calendar(2025, events=pd.DataFrame({"name": ["x"], "start_date": ["2025-05-02"],
                                                               "end_date": ["2025-05-01"]}))
    with pytest.raises(ValueError, match="at least one"):
        calendar.promotion_calendar([], events=calendar.CHINA_RETAIL)
    with pytest.raises(ValueError, match="at least one Promotion"):
        calendar.promotion_calendar(2025, events=[])
