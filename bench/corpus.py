"""Generate realistic corpora of conflict reports for the benchmarks.

Each report is about 500 words (350-700) in the styles of the seeds: a daily war report, a
weekly conflict summary or a news article with a dateline; headings, figure captions,
background paragraphs and control statements. Sentences come from

- the gold sentences (``tests/gold/extract_sentences.jsonl``, when present) and the seed
  reports, with the annotated places and actors swapped for other ones and month-day
  dates moved to the report's time;
- report-style templates that cover the actions, modalities, offsets and date phrases of
  DESIGN.md.

Places are sampled from the Who's On First localities of Syria in the gazetteer (with their
governorate), actors from the faction registry. Report ``i`` depends only on (seed, i, its
date): a corpus is deterministic, and ``add_reports`` appends "this week's" reports to an
existing folder for incremental benchmarks.

Usage::

    python bench/corpus.py --n 1000 --out /tmp/corpus-1k [--seed 7]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import json
import random
import re
import sys
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GAZETTEER = ROOT / "data" / "gazetteer" / "wof_places_syria_region.tsv.gz"
FACTIONS = ROOT / "data" / "factions.toml"
GOLD_DIR = ROOT / "tests" / "gold"
SEEDS = ROOT / "seeds"

#: Bump when the generated text changes (bench/run.py regenerates cached corpora).
VERSION = 3
#: Default time span of a corpus: two years of reporting, so a run has ~104 weekly steps.
START = dt.date(2016, 1, 4)
DAYS = 728

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DIRECTIONS = (("north", 0), ("northeast", 45), ("east", 90), ("southeast", 135), ("south", 180),
              ("southwest", 225), ("west", 270), ("northwest", 315))
#: Governorates as reports write them, from the gazetteer's region names.
GOVERNORATE_NAMES = {
    "Aleppo": "Aleppo", "Ar Raqqah": "Raqqa", "As Suwayda'": "Sweida", "Damascus": "Damascus",
    "Dar`a": "Daraa", "Days Az Zawr": "Deir Ezzor", "Hamah": "Hama", "Hasaka (Al Haksa)": "Hasakah",
    "Homs (Hims)": "Homs", "Idlib": "Idlib", "Lattakia": "Latakia", "Quneitra": "Quneitra",
    "Rif Dimashq": "Rif Dimashq", "Tartus": "Tartus",
}
_NAME_OK = re.compile(r"^[A-Z][A-Za-z' -]{2,30}$")


@dataclass(frozen=True)
class Place:
    name: str
    governorate: str


@lru_cache(maxsize=1)
def places() -> tuple[Place, ...]:
    """Syrian localities of the WOF gazetteer with a name a report could carry."""
    out = []
    with gzip.open(GAZETTEER, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["country"] != "SY" or row["placetype"] != "locality":
                continue
            gov = GOVERNORATE_NAMES.get(row["region_name"])
            names = [row["name"]] + [n for n in row["name_eng"].split("|") if n]
            good = [n for n in names if _NAME_OK.match(n)]
            if gov and good:
                out.append(Place(good[-1], gov))
    out.sort(key=lambda p: (p.name, p.governorate))
    return tuple(out)


@lru_cache(maxsize=1)
def actors() -> dict[str, tuple[str, ...]]:
    """Faction id -> actor names as reports write them (multi-word aliases read best)."""
    with open(FACTIONS, "rb") as f:
        registry = tomllib.load(f)
    out = {}
    for fid, entry in registry.items():
        names = [a for a in entry.get("aliases", []) if len(a) > 3 and a.lower() not in {"army", "regime", "damascus"}]
        if names:
            out[fid] = tuple(names)
    return out


def _split_sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", " ".join(text.split()))
    return [p for p in parts if 8 <= len(p.split()) <= 60 and re.fullmatch(r"[\x20-\x7e\u2013\u2019]+", p)]


@lru_cache(maxsize=1)
def gold_sentences() -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    """(sentence, annotated places, annotated actors) from the gold files and the seeds."""
    out: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    sentences = GOLD_DIR / "extract_sentences.jsonl"
    if sentences.is_file():
        for line in sentences.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            text = rec.get("sentence") or rec.get("text") or ""
            evs = rec.get("events", [])
            if text:
                out.append((text, tuple(e["place"] for e in evs if e.get("place")),
                            tuple(e["actor"] for e in evs if e.get("actor"))))
    seed_places: set[str] = set()
    seed_actors: set[str] = set()
    seeds_gold = GOLD_DIR / "extract_seeds.jsonl"
    if seeds_gold.is_file():
        for line in seeds_gold.read_text(encoding="utf-8").splitlines():
            if line.strip():
                for e in json.loads(line).get("events", []):
                    seed_places.add(e.get("place", ""))
                    seed_actors.add(e.get("actor", ""))
    seed_places.discard("")
    seed_actors.discard("")
    for path in sorted(SEEDS.glob("*.txt")):
        # Readers' comments under a web article are not report prose.
        body = re.split(r"(?im)^\s*leave a reply\s*$", path.read_text(encoding="utf-8", errors="replace"))[0]
        for s in _split_sentences(body):
            out.append((s, tuple(p for p in seed_places if p in s), tuple(a for a in seed_actors if a in s)))
    return tuple(out)


def _date_phrase(rng: random.Random, report: dt.date) -> tuple[str, dt.date]:
    back = rng.randint(0, 6)
    day = report - dt.timedelta(days=back)
    kind = rng.random()
    if back == 1 and kind < 0.3:
        return "yesterday", day
    if kind < 0.45 and back > 0:
        return f"on {WEEKDAYS[day.weekday()]}", day
    if kind < 0.8:
        prefix = rng.choice(("on", "on", "late on", "early on", "by"))
        return f"{prefix} {MONTHS[day.month - 1]} {day.day}", day
    return rng.choice(("earlier this week", "over the past week", "during the reporting period",
                       "in recent days")), report


# Event templates: {a} actor, {b} other actor, {p}/{q} places, {g} governorate, {d} date phrase,
# {k} kilometres, {dir} direction. The wording follows the seeds and common monitoring prose.
EVENT_TEMPLATES = (
    "{A} captured {p} from {b} {d}, according to local sources.",
    "{A} took control of the village of {p} in the {g} countryside {d}.",
    "{d_cap}, {a} seized {p} and the surrounding farms after heavy clashes with {b}.",
    "{A} recaptured {p} {d} following a two-day counter-offensive.",
    "{A} advanced {k}km {dir} of {p} towards {q} {d}.",
    "{A} pushed {k} kilometres {dir} of {p}, reaching the outskirts of {q}.",
    "{A} made gains near {p} {d} and are now within {k}km of {q}.",
    "{A} continue to hold {p} despite repeated attacks by {b}.",
    "As of writing this report, {a} remain in control of {p} and the road to {q}.",
    "{A} besieged {p} {d}, cutting the last supply route from {q}.",
    "{p} remains under siege by {a}, with an estimated two thousand civilians trapped inside.",
    "Heavy clashes between {a} and {b} were reported in {p} {d}.",
    "The town of {p} is contested, with {a} and {b} each holding several neighbourhoods.",
    "{A} withdrew from {p} {d} after an agreement brokered by local elders.",
    "{A} pulled out of {p} and fell back towards {q}.",
    "{A} shelled {p} and its outskirts {d}, killing at least {n} civilians.",
    "Airstrikes attributed to {a} hit the market in {p} {d}.",
    "{A} claimed to have captured {p} {d}, but this could not be independently verified.",
    "Pro-opposition media reported that {a} had entered {p}, a claim {b} denied.",
    "{A} are expected to launch an offensive on {p} in the coming days.",
    "{A} did not capture {p}, contrary to earlier reports.",
    "{A} attacked positions of {b} on the {dir}ern edge of {p} {d}.",
    "{A} captured the villages of {p} and {q} west of the Euphrates {d}.",
    "Fighting continued between {p} and {q} as {a} tried to link up with their forces in {g}.",
    "{A} reportedly entered {p} {d} and raised their flag over the municipal building.",
)
BACKGROUND_TEMPLATES = (
    "Aid convoys reached {p} {d} for the first time in several months.",
    "Local councils in the {g} countryside reported a growing number of displaced families.",
    "A member of the negotiations commission said talks on {p} had stalled over the release of prisoners.",
    "Residents of {p} described shortages of bread, fuel and medicine.",
    "The humanitarian situation in {g} governorate continues to deteriorate as winter approaches.",
    "Analysts expect the balance of forces in {g} to remain largely unchanged over the coming weeks.",
    "The road between {p} and {q} was reopened to civilian traffic {d}.",
    "Several schools in {p} resumed classes after repairs funded by local donors.",
    "Observers noted that the frontline has been static for most of the reporting period.",
    "The reports could not be confirmed, and casualty figures vary widely between sources.",
    "Electricity returned to parts of {p} after technicians repaired a damaged substation.",
    "Protests against conscription took place in {p} and several nearby villages.",
)
HEADINGS = ("Developments in the East", "Developments in the South", "Northern Syria", "Central Syria",
            "Opposition developments", "Humanitarian situation", "Reconciliation Deals",
            "{g} governorate", "The {g} front", "Key developments")
HEADLINES = ("Government Forces Clear Villages In {g}", "Fighting Intensifies Around {p}",
             "Rebels Advance In {g} Countryside", "ISIS Counter-Attack Near {p}",
             "SDF Pushes Along The Euphrates", "Clashes Continue In {g}")


def _fill(template: str, rng: random.Random, report: dt.date) -> str:
    all_places = places()
    p, q = rng.choice(all_places), rng.choice(all_places)
    factions = actors()
    fa, fb = rng.sample(sorted(factions), 2)
    a, b = rng.choice(factions[fa]), rng.choice(factions[fb])
    d, _ = _date_phrase(rng, report)
    direction = rng.choice(DIRECTIONS)[0]
    s = template.format(
        A=a[0].upper() + a[1:], a=a, b=b, p=p.name, q=q.name, g=p.governorate, d=d,
        d_cap=d[0].upper() + d[1:], k=rng.choice((2, 3, 4, 5, 6, 8, 10, 12, 14, 18, 25)), dir=direction,
        n=rng.randint(2, 40),
    )
    return s


def _swap_dates(sentence: str, rng: random.Random, report: dt.date) -> str:
    def repl(m: re.Match) -> str:
        day = report - dt.timedelta(days=rng.randint(0, 6))
        return f"{MONTHS[day.month - 1]} {day.day}"

    # Years too: a sentence copied from a 2018 report must not date events in 2018.
    sentence = re.sub(r"\b(19|20)\d\d\b", str(report.year), sentence)
    return re.sub(r"\b(" + "|".join(MONTHS) + r")\s+\d{1,2}\b", repl, sentence, flags=re.IGNORECASE)


def _from_gold(rng: random.Random, report: dt.date) -> str:
    text, gold_places, gold_actors = rng.choice(gold_sentences())
    for name in sorted(set(gold_places), key=len, reverse=True):
        text = text.replace(name, rng.choice(places()).name)
    factions = actors()
    for actor in sorted(set(gold_actors), key=len, reverse=True):
        if len(actor) < 60:
            text = text.replace(actor, rng.choice(factions[rng.choice(sorted(factions))]))
    return _swap_dates(text, rng, report)


def _title(rng: random.Random, report: dt.date) -> str:
    p = rng.choice(places())
    headline = rng.choice(HEADLINES).format(p=p.name, g=p.governorate)
    style = rng.random()
    date = f"{MONTHS[report.month - 1]} {report.day}, {report.year}"
    if style < 0.4:
        return f"Syria War Report – {date}: {headline}"
    if style < 0.7:
        first = report - dt.timedelta(days=6)
        last = f"{report.day}" if first.month == report.month else f"{MONTHS[report.month - 1]} {report.day}"
        return f"Weekly Conflict Summary {MONTHS[first.month - 1]} {first.day}-{last}, {report.year}"
    return f"{headline}\n\n{p.governorate.upper()} GOVERNORATE ({date.upper()})"


def report(seed: int, i: int, date: dt.date) -> str:
    """The text of report ``i`` of a corpus with ``seed``, dated ``date``."""
    rng = random.Random(seed * 1_000_003 + i)
    target = rng.randint(350, 700)
    lines = [_title(rng, date), ""]
    words = 0
    figure = 1
    while words < target:
        heading = rng.choice(HEADINGS).format(g=rng.choice(places()).governorate)
        lines += [heading, ""]
        words += len(heading.split())
        for _ in range(rng.randint(1, 3)):
            sentences = []
            for _ in range(rng.randint(2, 5)):
                r = rng.random()
                # About 2.5 events per 100 words, as in the seeds' gold annotation.
                if r < 0.25:
                    s = _fill(rng.choice(EVENT_TEMPLATES), rng, date)
                elif r < 0.55 and gold_sentences():
                    s = _from_gold(rng, date)
                else:
                    s = _fill(rng.choice(BACKGROUND_TEMPLATES), rng, date)
                sentences.append(s)
                words += len(s.split())
            lines += [" ".join(sentences), ""]
            if rng.random() < 0.15:
                p = rng.choice(places())
                lines += [f"Figure {figure} - Situation around {p.name} by "
                          f"{MONTHS[date.month - 1]} {date.day}", ""]
                figure += 1
            if words >= target:
                break
    return "\n".join(lines).rstrip() + "\n"


def report_date(i: int, n: int, start: dt.date = START, days: int = DAYS) -> dt.date:
    """Reports spread evenly over ``days`` from ``start``; extra ones (i >= n) follow on."""
    if i < n:
        return start + dt.timedelta(days=i * days // max(n, 1))
    return start + dt.timedelta(days=days + 1 + (i - n) * 7 // 10)


def _write(folder: Path, seed: int, indices: range, n: int, start: dt.date, days: int,
           manifest_mode: str = "w") -> int:
    """Write reports ``indices`` and their manifest rows; the number of words written."""
    rows = []
    words = 0
    for i in indices:
        date = report_date(i, n, start, days)
        name = f"report_{i:06d}.txt"
        text = report(seed, i, date)
        words += len(text.split())
        (folder / name).write_text(text, encoding="utf-8")
        rows.append([name, date.isoformat(), "generated", text.split("\n", 1)[0]])
    new = manifest_mode == "w" or not (folder / "manifest.csv").exists()
    with open(folder / "manifest.csv", "w" if new else "a", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["file", "date", "source", "title"])
        w.writerows(rows)
    return words


def generate(out: str | Path, n: int, seed: int = 7, start: dt.date = START, days: int = DAYS) -> Path:
    """Write ``n`` reports, ``manifest.csv`` (file,date,source,title) and ``corpus.json`` into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    words = _write(folder, seed, range(n), n, start, days)
    meta = {"version": VERSION, "n": n, "seed": seed, "start": start.isoformat(), "days": days, "extra": 0, "words": words}
    (folder / "corpus.json").write_text(json.dumps(meta))
    return folder


def add_reports(corpus: str | Path, k: int = 10, into: str | Path | None = None) -> list[Path]:
    """Write ``k`` new reports ("this week's"), dated after the last of a generated corpus.

    They go into the corpus folder itself (its manifest is extended), or into ``into``, a
    folder of their own with its own manifest. Calling it again adds the next ``k``.
    """
    corpus = Path(corpus)
    meta = json.loads((corpus / "corpus.json").read_text())
    folder = Path(into) if into else corpus
    folder.mkdir(parents=True, exist_ok=True)
    first = meta["n"] + meta["extra"]
    _write(folder, meta["seed"], range(first, first + k), meta["n"], dt.date.fromisoformat(meta["start"]),
           meta["days"], manifest_mode="a")
    meta["extra"] += k
    (corpus / "corpus.json").write_text(json.dumps(meta))
    return [folder / f"report_{i:06d}.txt" for i in range(first, first + k)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, required=True, help="number of reports")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--add", type=int, default=0, help="append this many new reports to the corpus --out instead")
    args = ap.parse_args(argv)
    if args.add:
        add_reports(args.out, args.add)
    else:
        generate(args.out, args.n, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
