"""The live state of each step worked out incrementally (``LiveStates``) equals ``live_states``."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from geo_control.model.state import Evidence, LiveStates, Timeline, _stale_from, live_states

DAY0 = dt.date(2017, 1, 1)


def _evidence(rng: random.Random, day: dt.date) -> Evidence:
    return Evidence(rng.choice(["government", "isis", "sdf", None]), rng.choice(["held", "contested", "besieged"]),
                    day - dt.timedelta(days=rng.randint(0, 200)), rng.choice([0.02, 0.05, 0.3, 0.56, 0.8, 1.0]),
                    (f"ev-{rng.randint(0, 10**6)}",))


def _timeline(seed: int, n_steps: int = 60, n_keys: int = 80) -> tuple[Timeline, list[dt.date]]:
    """States as ``timeline`` makes them: an entry kept (same object) until a statement touches it."""
    rng = random.Random(seed)
    entry: dict[str, tuple] = {}
    states, days = [], []
    for t in range(n_steps):
        day = DAY0 + dt.timedelta(days=7 * t + 6)
        for _ in range(rng.randint(0, 12)):
            key = f"k{rng.randrange(n_keys):03d}"
            whole = _evidence(rng, day) if rng.random() < 0.8 else None
            parts = tuple((rng.choice([0.0, 90.0, float("nan")]), _evidence(rng, day))
                          for _ in range(rng.choice([0, 0, 0, 1, 2])))
            entry[key] = (whole, parts)
        states.append({k: entry[k] for k in sorted(entry)})
        days.append(day)
    return Timeline({}, states, [], [[] for _ in states]), days


def _same(a: dict, b: dict) -> bool:
    if list(a) != list(b):
        return False
    for k in a:
        (wa, pa), (wb, pb) = a[k], b[k]
        if wa is not wb or len(pa) != len(pb):
            return False
        if any(ea is not eb or repr(ba) != repr(bb) for (ba, ea), (bb, eb) in zip(pa, pb, strict=True)):
            return False
    return True


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("half_life,min_conf", [(28.0, 0.05), (7.0, 0.2), (0.0, 0.05), (28.0, 0.0)])
def test_in_order_equals_live_states(seed, half_life, min_conf):
    tl, days = _timeline(seed)
    live = LiveStates(tl, half_life, min_conf)
    last: dict = {}
    for t, day in enumerate(days):
        got = live(t, day)
        want = live_states(tl.states[t], day, half_life, min_conf)
        assert _same(got, want), t
        # Every key whose live part differs from the last step's is reported as changed.
        moved = {k for k in set(got) | set(last) if k not in got or k not in last or not _same({k: got[k]}, {k: last[k]})}
        assert moved <= live.changed, t
        last = got


def test_out_of_order_and_repeated_calls_equal_live_states():
    tl, days = _timeline(7)
    live = LiveStates(tl, 28.0, 0.05)
    rng = random.Random(1)
    for t in [5, 6, 7, 3, 3, 4, 40, 41, 0, 59, 59, *rng.sample(range(60), 20)]:
        assert _same(live(t, days[t]), live_states(tl.states[t], days[t], 28.0, 0.05)), t


@pytest.mark.parametrize("conf", [0.05, 0.0501, 0.1, 0.3, 0.8, 1.0])
@pytest.mark.parametrize("half_life", [1.0, 7.0, 28.0, 28.3])
def test_stale_from_is_the_first_day_below_the_floor(conf, half_life):
    ev = Evidence("isis", "held", DAY0, conf, ("e",))
    stale = dt.date.fromordinal(_stale_from(ev, half_life, 0.05))
    assert ev.at(stale, half_life) < 0.05
    assert stale == DAY0 or ev.at(stale - dt.timedelta(days=1), half_life) >= 0.05
