"""Scoring the extractor against hand-annotated gold files (``tests/gold/extract_*.jsonl``).

Gold format: JSONL, one document per line: ``{"doc", "path"|"text", "doc_date", "events": [...]}``
with events ``{"action", "faction", "place", "date", "date_precision", "modality", ...}``.

A predicted event matches a gold event when action, faction and place agree (places compared
after normalising case, articles, hyphens, apostrophes, vowels and feature words; an offset
event may name its place as ``place`` or ``from_place``) and the date lies within the gold
precision (day: ±1 day; week: ±7; month: same month; doc: within 7 days of the report date).
Only ``asserted`` and ``claimed`` events count, on both sides. A report repeating an event
(headline, body, "the capture of the town") is one event: once a (action, faction, place) is
matched, its further unmatched copies are neither false positives nor misses.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from geo_control.errors import InputError, MissingInputError
from geo_control.records import ACTIONS, CONTROLLING_MODALITIES, Document, Statement

FEATURES = re.compile(
    r"\b(?:oil|gas)\s*fields?\b|\bpumping\s+station\b|\b(?:military\s+)?air\s?base\b|\b(?:city|town|village|villages|"
    r"neighbou?rhoods?|district|quarter|pocket|area|camp|airport|dam|bridge|crossing|countryside|province|"
    r"governorate|region|hill|mount|mountain|river|enclave|suburb|industrial)\b"
)
PARTICLES = re.compile(r"(?:(?<=\s)|^)(?:al|el|ad|ash|as|at|az|ar|an|adh|ath|ed|es|et|er|ez|ul|the)(?:[-\s]+|(?=$))")


def normalise_place(name: str) -> str:
    """A comparison key for place names: 'Deir ez-Zor' = 'Deir Ezzor' = 'Deir-Ez-Zor'.

    >>> normalise_place("Deir ez-Zor") == normalise_place("Deir-Ez-Zor") == normalise_place("Deir Ezzor city")
    True
    >>> normalise_place("the Hajin pocket") == normalise_place("Hajin")
    True
    """
    tokens = name.split()
    if any(re.search(r"[A-Z]", t) for t in tokens):
        # The proper name decides: "Hanano housing district" = "Hanano", "al-Tanf garrison" = "al-Tanf".
        name = " ".join(t for t in tokens if re.search(r"[A-Z0-9]", t) or re.match(r"(?:al|el|ad|as|ash|az|ar|at|ez|an)-", t))
    s = name.lower().replace("’", "'").replace("‘", "'").replace("`", "'")
    s = re.sub(r"['\"]", "", s)
    s = re.sub(r"-", " - ", s)
    s = FEATURES.sub(" ", s)
    # "Eastern Ghouta" = "Ghouta" (part:east), "South Kashmah" = "Kashmah".
    s = re.sub(r"^\s*(?:the\s+)?(?:(?:north|south)(?:-?(?:east|west))?(?:ern)?|east(?:ern)?|west(?:ern)?|central|old)\s+(?=\S)", " ", s)
    s = re.sub(r"\s+-\s+", " ", f" {s} ")
    s = PARTICLES.sub(" ", " " + s + " ")
    s = re.sub(r"[^a-z0-9]", "", s)
    s = re.sub(r"(.)\1+", r"\1", s)
    s = s.replace("ou", "u").replace("w", "u").replace("q", "k").replace("y", "i")
    skeleton = re.sub(r"[aeiou]", "", s)
    return skeleton or s


@dataclass(frozen=True)
class GoldEvent:
    action: str
    faction: str
    place: str
    date: dt.date
    precision: str
    modality: str
    from_place: str = ""


@dataclass
class GoldDoc:
    doc: str
    doc_date: dt.date
    text: str | None
    path: Path | None
    events: list[GoldEvent]
    source: str = ""


def _date(value, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{where}: date '{value}' is not YYYY-MM-DD; fix the gold file") from None


def read_gold(paths: Sequence[str | Path]) -> list[GoldDoc]:
    """Documents and events of one or more gold JSONL files."""
    docs: list[GoldDoc] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise MissingInputError(f"{path}: gold file not found; give a JSONL file such as tests/gold/extract_seeds.jsonl")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{where}: not valid JSON ({exc.msg}); one JSON object per line") from None
            if "doc_date" not in rec or ("text" not in rec and "path" not in rec):
                raise InputError(f"{where}: needs doc_date and text or path")
            doc_date = _date(rec["doc_date"], where)
            events = []
            for ev in rec.get("events", []):
                try:
                    events.append(GoldEvent(
                        action=ev["action"], faction=ev["faction"], place=ev["place"],
                        date=_date(ev.get("date") or rec["doc_date"], where),
                        precision=ev.get("date_precision", "doc"), modality=ev.get("modality", "asserted"),
                        from_place=ev.get("from_place") or "",
                    ))
                except KeyError as exc:
                    raise InputError(f"{where}: an event lacks {exc}; every event needs action, faction, place") from None
            gold_path = None
            if rec.get("path"):
                candidates = [Path(rec["path"]), path.parent / rec["path"], path.parent.parent.parent / rec["path"]]
                gold_path = next((c for c in candidates if c.is_file()), None)
                if gold_path is None:
                    raise MissingInputError(f"{where}: report {rec['path']} not found (looked relative to . and {path.parent})")
            name = rec.get("doc") or (gold_path.name if gold_path else f"{path.stem}-{n}")
            docs.append(GoldDoc(name, doc_date, rec.get("text"), gold_path, events, source=where))
    return docs


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Scores:
    overall: Counts = field(default_factory=Counts)
    by_action: dict[str, Counts] = field(default_factory=lambda: {a: Counts() for a in ACTIONS})
    false_positives: list[tuple[str, Statement]] = field(default_factory=list)
    misses: list[tuple[str, GoldEvent]] = field(default_factory=list)


def _date_ok(gold: GoldEvent, date: dt.date, doc_date: dt.date) -> bool:
    if gold.precision == "day":
        return abs((date - gold.date).days) <= 1
    if gold.precision == "week":
        return abs((date - gold.date).days) <= 7
    if gold.precision == "month":
        return (date.year, date.month) == (gold.date.year, gold.date.month)
    return abs((date - doc_date).days) <= 7


def _places(names: Iterable[str]) -> set[str]:
    return {normalise_place(n) for n in names if n}


def score_document(gold: GoldDoc, predicted: Sequence[Statement], scores: Scores) -> None:
    golds = [g for g in gold.events if g.modality in CONTROLLING_MODALITIES]
    preds = [p for p in predicted if p.modality in CONTROLLING_MODALITIES]
    used: set[int] = set()
    matched_keys: set[tuple[str, str, str]] = set()
    unmatched_gold: list[GoldEvent] = []
    for g in golds:
        gplaces = _places([g.place, g.from_place])
        hit = None
        for i, p in enumerate(preds):
            if i in used or p.action != g.action or p.faction != g.faction:
                continue
            if not (_places([p.place, p.from_place]) & gplaces):
                continue
            if _date_ok(g, p.date, gold.doc_date):
                hit = i
                break
        if hit is None:
            unmatched_gold.append(g)
            continue
        used.add(hit)
        matched_keys.add((g.action, g.faction, normalise_place(g.place)))
        matched_keys.add((preds[hit].action, preds[hit].faction, normalise_place(preds[hit].place)))
        scores.overall.tp += 1
        scores.by_action[g.action].tp += 1
    for g in unmatched_gold:
        if (g.action, g.faction, normalise_place(g.place)) in matched_keys:
            continue
        scores.overall.fn += 1
        scores.by_action[g.action].fn += 1
        scores.misses.append((gold.doc, g))
    for i, p in enumerate(preds):
        if i in used or (p.action, p.faction, normalise_place(p.place)) in matched_keys:
            continue
        scores.overall.fp += 1
        scores.by_action[p.action].fp += 1
        scores.false_positives.append((gold.doc, p))


def _document(gold: GoldDoc) -> Document:
    import hashlib

    if gold.text is not None:
        text = gold.text
        raw = text.encode("utf-8")
        return Document(gold.doc, text, gold.doc_date, "gold", hashlib.sha256(raw).hexdigest())
    from geo_control.ingest import read_reports

    assert gold.path is not None
    doc = read_reports([gold.path], default_date=gold.doc_date)[0]
    return Document(gold.doc, doc.text, gold.doc_date, "gold", doc.sha256, doc.source, doc.title, doc.path)


def evaluate(gold_files: Sequence[str | Path], factions=None,
             extractor: Callable[..., list[Statement]] | None = None) -> Scores:
    """Run the extractor on every gold document and count matches.

    >>> # scores = evaluate(["tests/gold/extract_seeds.jsonl"]); scores.overall.precision
    """
    from geo_control.extract import extract
    from geo_control.factions import FactionRegistry

    factions = factions or FactionRegistry.default()
    run = extractor or extract
    scores = Scores()
    for gold in read_gold(gold_files):
        doc = _document(gold)
        score_document(gold, run(doc, factions), scores)
    return scores
