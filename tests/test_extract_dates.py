"""extract.dates and extract.sentences: date phrases resolved against the report date; sentence spans."""

from __future__ import annotations

import datetime as dt

import pytest

from geo_control.extract.dates import find_dates
from geo_control.extract.sentences import split_sentences

REF = dt.date(2017, 11, 15)  # a Wednesday


@pytest.mark.parametrize(
    "phrase, date, precision",
    [
        ("On November 1", "2017-11-01", "day"),
        ("Late on November 1", "2017-11-01", "day"),
        ("on Nov 10,", "2017-11-10", "day"),
        ("on Nov. 10", "2017-11-10", "day"),
        ("on 3 November", "2017-11-03", "day"),
        ("on November 3, 2016", "2016-11-03", "day"),
        ("on December 28", "2016-12-28", "day"),
        ("on Tuesday", "2017-11-14", "day"),
        ("on Wednesday", "2017-11-15", "day"),
        ("on Sunday", "2017-11-12", "day"),
        ("yesterday", "2017-11-14", "day"),
        ("as of writing this report", "2017-11-15", "day"),
        ("over the past seven days", "2017-11-12", "week"),
        ("over the past 5 days", "2017-11-13", "week"),
        ("last week", "2017-11-08", "week"),
        ("during the reporting week", "2017-11-12", "week"),
        ("over the weekend", "2017-11-11", "week"),
        ("earlier this month", "2017-11-15", "month"),
        ("last month", "2017-10-15", "month"),
        ("mid-October", "2017-10-15", "week"),
        ("early November", "2017-11-05", "week"),
        ("in October", "2017-10-15", "month"),
        ("in March", "2017-03-15", "month"),
        ("November 9-15", "2017-11-15", "week"),
        ("between 9 and 15 November", "2017-11-15", "week"),
        ("September 9 and 10", "2017-09-09", "day"),
        ("2017-11-02", "2017-11-02", "day"),
        ("in the next week", "2017-11-22", "week"),
    ],
)
def test_date_phrases(phrase, date, precision):
    found = find_dates(phrase, REF)
    assert found, phrase
    assert (found[0].date.isoformat(), found[0].precision) == (date, precision)


@pytest.mark.parametrize("text", ["The army may advance.", "Forces in May 5 units", "the following paragraph", "Today's map"])
def test_no_false_dates(text):
    got = [d.text for d in find_dates(text, REF)]
    assert not [g for g in got if g.lower() in ("may", "following")]


def test_relative_days_follow_the_last_date():
    got = [(d.date.isoformat(), d.precision) for d in find_dates(
        "On November 3 the army advanced. The next day it took the town; two days later it withdrew.", REF)]
    assert got == [("2017-11-03", "day"), ("2017-11-04", "day"), ("2017-11-06", "day")]


def test_sentences_keep_offsets_and_paragraphs():
    text = "## Title line\n\nThe SAA took Sukhnah on Nov. 2. ISIS fled to al-Bukamal!  Gen. Suheil al-Hassan said so.\nNext line"
    sents = split_sentences(text)
    spans = [text[s.start:s.end] for s in sents]
    assert spans == ["## Title line", "The SAA took Sukhnah on Nov. 2.", "ISIS fled to al-Bukamal!",
                     "Gen. Suheil al-Hassan said so.", "Next line"]
    assert [s.paragraph for s in sents] == [0, 1, 1, 1, 1]
