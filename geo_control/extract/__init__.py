"""``extract``: a Document -> Statements (date, actor -> faction, action, place mention, span).

The extractor reads the syntax of conflict reports, without a gazetteer and without an NLP
model on the main path, so that it is fast and works on place names nobody listed:

1. faction aliases (the registry passed in) are found and *masked* in a copy of the text, so
   actors are never read as places;
2. action triggers (lexicon.TRIGGER) anchor each statement; the actor is the nearest subject
   faction before the trigger (the agent after it for passives, the subject of the previous
   sentence of the paragraph when none is named);
3. the places a trigger governs are read left to right from the trigger: capitalised names
   with their particles (al-, ez-, Abu...), feature words ("oil field", "neighborhood"),
   anaphora ("the town") and lists ("the villages of A, B, and C"); the words between them
   must be words that can stand there (articles, "villages of", "the southern part of", ...);
4. each place gets its relation (part, near, offset with distance and bearing, between, bank),
   the sentence its modality (expected, claimed, negated) and date (lexicon-free date rules in
   ``dates``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace

from geo_control.extract import lexicon as lx
from geo_control.extract.dates import DateMention, find_dates
from geo_control.extract.fastmatch import find_factions
from geo_control.extract.sentences import Sentence, split_sentences
from geo_control.factions import FactionRegistry
from geo_control.records import Document, Statement

__all__ = ["extract", "find_dates", "split_sentences"]

log = logging.getLogger(__name__)

CONFIDENCE = {"asserted": 0.9, "claimed": 0.6, "expected": 0.3, "negated": 0.2}
LOOSE_ACTIONS = ("attack", "contest")
WORDS_OF_FACTIONS = {"government": "government", "regime": "government", "loyalist": "government",
                     "opposition": "opposition", "rebel": "opposition", "insurgent": "opposition",
                     "Kurdish": "sdf", "Turkish": "turkey", "jihadist": "isis", "militant": "opposition"}
OBJECT_ROLE = re.compile(
    r"(?:\b(?:on|against|at|from|with|by|targeting|near|towards?|to|into|of|over|between|and|or|vs\.?|versus|"
    r"including|alongside|among|for|fighting|engaging|attacked|attacking|hit|struck|targeted|shelled|bombed|"
    r"repelled|repulsed|defeated|killed|expelled|drove|ousted|pushed|besieged|encircled|surrounded|than|"
    r"belonging\s+to|backed\s+by|supported\s+by|led\s+by)\s+(?:the\s+)?(?:[\w'’-]+\s+)?|/)$",
    re.IGNORECASE,
)
VICTIM_AFTER = re.compile(
    r"^[\s'’s]*(?:\w+\s+){0,2}?(?:were|was|have\s+been|has\s+been)\s+(?:\w+ly\s+)?(?:killed|wounded|injured|executed|"
    r"captured|arrested|detained|taken\s+prisoner|eliminated|neutralized|neutralised)",
    re.IGNORECASE,
)
CHAIN_GAP = re.compile(r"^(?:\s|,|\band\b|&|\bthe\b|\bits\b|\btheir\b|\ballied\b|\(|\)|\bincluding\b|\bbacked\s+by\b)*$",
                       re.IGNORECASE)
SEPARATOR = re.compile(r",|\band\b|\bor\b|\bas\s+well\s+as\b|&", re.IGNORECASE)
WORD_TOKEN = re.compile(r"[A-Za-z§][\w'’§-]*|\d+(?:[.,]\d+)?%?|[^\s\w]")
NUMBERISH = re.compile(r"^(?:\d+(?:[.,]\d+)?%?|\d+(?:st|nd|rd|th|km|m))$", re.IGNORECASE)
COMPOUND_OK = re.compile(r"^[\w§]+-(?:held|controlled|dominated|majority|populated|inhabited|occupied|besieged|"
                         r"led|backed|based|run|affiliated|allied|long|wide|rich|strategic|like)$", re.IGNORECASE)
DATE_WORDS = frozenset("""january february march april may june july august september october november december jan
feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday on early late
mid last week weeks day days month months this past night morning evening afternoon""".split())
CONTEXT_KINDS = ("countryside", "province", "governorate", "region", "desert", "district")
SPEAKER_AFTER = re.compile(r"^(?:'s)?\s+(?:\w+\s+){0,3}?(?:said|says|reported|claimed|announced|stated|added|confirmed|denied|told)\b",
                           re.IGNORECASE)
AGENT_DIRECT = re.compile(r"^\s*(?:the\s+)?(?:[\w-]+\s+){0,2}?(" + lx.MASK + r"+)")
GENERIC_ACTOR = re.compile(r"(?:the\s+)?(?:militants|insurgents|armed\s+groups|the\s+terrorist\s+group|fighters)", re.IGNORECASE)
DECLARED_BEFORE = re.compile(r"\b(?:declared|announced|proclaimed|pronounced)\s+(?:the\s+)?(?:[\w'-]+\s+){1,4}$", re.IGNORECASE)
CIVILIANS = re.compile(r"\b(?:civilians|residents|families|people|displaced|IDPs|refugees|wounded|patients|children|women|"
                       r"inhabitants|population)\b[^§]*$", re.IGNORECASE)
WITHIN = re.compile(r"(?:to\s+)?within\s+(?:about\s+|some\s+|around\s+|just\s+)?(\d+(?:\.\d+)?)", re.IGNORECASE)
LOCATOR_GAP = re.compile(
    r"\s*,?\s*(?:(?:up\s+to\s+|about\s+|some\s+|around\s+|approximately\s+)?\d+(?:\.\d+)?\s*(?:km|kms|kilometers|kilometres|miles)\s+)?"
    r"(?:the\s+(?:last|remaining|only|main|final)\s+(?:" + lx.MASK + r"+\s+)?(?:positions?|strongholds?|bastions?|areas?|pockets?)\s+)?"
    r"(?:(?:to\s+the\s+)?(?:north|south|east|west)(?:-?(?:east|west))?\s+of|in|of|inside|near|outside|at|on|along|close\s+to|"
    r"to\s+the\s+rest\s+of)\s+(?:the\s+)?"
    r"(?:(?:north|south|east|west)(?:-?(?:east|west))?(?:ern)?\s+|central\s+)?"
    r"(?:(?:entrance|entrances|edge|edges|outskirts|gates|part|side|end|approaches|banks?|heart|centre|center|countryside|suburbs)\s+"
    r"(?:of|to)\s+(?:the\s+)?)?", re.IGNORECASE)
HEADING_TAIL = re.compile(r"(\d+(?:\.\d+)?)\s*(?:km|kms|kilometers|kilometres)\s+((?:north|south)(?:-?(?:east|west))?|east|west)?"
                          r"(?:wards?)?\s+(?:towards?|to)\s+(?:the\s+)?$", re.IGNORECASE)
SUBORDINATE_START = re.compile(r"\s*(?:since|after|before|when|as|while|although|though|once|until|if|because)\b", re.IGNORECASE)
IMPLICIT_BEFORE = re.compile(
    r"(?:\b(?:after|amid|following|during|despite)\s+(?:(?:days|weeks|hours|months|a\s+week|a\s+month)\s+of\s+)?(?:[\w§'-]+\s+){0,3}"
    r"|\b(?:reversing|repelling|repulsing|halting|thwarting|stopping)\s+(?:an?|the)\s+(?:" + lx.MASK + r"+\s+)?(?:[\w-]+\s+)?)$",
    re.IGNORECASE)
BESIEGED_SIDE = re.compile("(" + lx.MASK + r"+)\s*,?\s*(?:who|which|that)?\s*(?:have|has|had|are|is|were|was)?\s*(?:been\s+)?(?:\w+ly\s+)?$")
PAST_TRIGGER = re.compile(r"(?:ed|took|fled|fell|overran|drove|hit|struck|fought|left|withdrew|seized|retook|won|lost|"
                          r"swept|held)(?:\s|$)|(?:ed|took|fled|fell|overran|drove|hit|struck|fought|left|withdrew|won|lost|swept)$",
                          re.IGNORECASE)
NEW_THREAD = re.compile(r"\s*(?:meanwhile|elsewhere|separately|in\s+addition|additionally|in\s+other\s+(?:news|developments)|"
                        r"on\s+another\s+front|further)\b", re.IGNORECASE)
NOT_ONLY = re.compile(r"\bnot\s+only\b", re.IGNORECASE)
SIEGE_ENDS = re.compile(r"\b(?:break|broke|broken|breaking|lift|lifted|lifting|lifts)\s+(?:the\s+|a\s+|its\s+)?(?:[\w-]+\s+)?$",
                        re.IGNORECASE)
WITHDRAW_DESTINATION = re.compile(r"\b(?:to|towards?|into)\b", re.IGNORECASE)
SPEAKER_BEFORE = re.compile("(" + lx.MASK + r"+)\s+(?:\w+\s+)?(?:said|say|says|claimed|claim|announced|reported|stated)\s+(?:that\s+)?$",
                            re.IGNORECASE)
DIR_ADJ_END = re.compile(r"\b(?:(?:north|south)(?:-?(?:east|west))?ern|eastern|western|central)\s*$", re.IGNORECASE)
REPELLED_BEFORE = re.compile(
    r"\b(?:repelled|repulsed|repel|repels|repulse|thwarted|foiled|fended\s+off|fought\s+off|beat\s+back|beaten\s+back)\s+"
    r"(?:an?\s+|the\s+|several\s+|two\s+|three\s+|multiple\s+|repeated\s+)?(?:" + lx.MASK + r"+\s+)?(?:[\w-]+\s+)?$",
    re.IGNORECASE)
CAME_UNDER = re.compile(r"\b(?:came|come|comes|coming|was|were|is|are|been|remained|remains)\s+under\s+(?:[\w-]+\s+){0,2}$",
                        re.IGNORECASE)
PARTS_OBJECT = re.compile(
    r"\s+(?:several|some|a\s+number\s+of|two|three|four|five|many|most\s+of\s+the|the\s+remaining|a\s+few|more)\s+"
    r"(?:neighbou?rhoods|districts|quarters|streets|blocks)\b", re.IGNORECASE)
LEFT_TO = re.compile(
    r"\b(?:leaving|left|handing\s+over|handed\s+over|ceding|ceded|surrendering|surrendered|abandoning)\s+$", re.IGNORECASE)
TO_HOLDER = re.compile(r"\s+(?:to|in\s+the\s+hands\s+of|under\s+the\s+control\s+of)\s+(?:the\s+)?(" + lx.MASK + r"+)")
NOUN_TRIGGER = re.compile(
    r"(?:attack|strike|raid|assault|offensive|advance|counter-?attack|counter-?offensive|shelling|bombardment|bombing|push|"
    r"withdrawal|retreat|siege|encirclement|capture|seizure|liberation|clash|clashes|fighting|ambush|evacuation|"
    r"checkpoint|outpost|post|base|garrison)s?$")
COORDINATED = re.compile(r"\s*,?\s*(?:and|or|and\s+then|then)\s+(?:even\s+|also\s+|later\s+)?(?:\w+ly\s+)?", re.IGNORECASE)
FIGHTING_REPORTED = re.compile(
    r"\s*(?:(?:and|or)\s+(?:even\s+)?[\w\s-]{0,30}?\s+)?(?:were|was|have\s+been|has\s+been|had\s+been)\s+(?:also\s+)?reported|"
    r"\s*(?:continued|continue|erupted|intensified|raged|broke\s+out|resumed|were\s+ongoing|are\s+ongoing)\b", re.IGNORECASE)
NON_AGENT = re.compile(
    r"\b(?:aid|convoys?|civilians|residents|families|people|journalists|reporters|delegations?|trucks|buses|supplies|"
    r"refugees|IDPs|displaced|inspectors|observers|monitors|negotiators|talks|roads?|prices|envoys?|diplomats|"
    r"humanitarian|medical|ambulances|evacuees|returnees|shelling|airstrikes|strikes|rockets|shells|missiles)\b[^§]*$",
    re.IGNORECASE)
LED_BEFORE = re.compile(r"\b([A-Z][\w'’]*)-(?:led|backed|supported|sponsored|run)\s+(?:[a-z-]+\s+)?$")
ONGOING_BEFORE = re.compile(r"\bthe\s+(?:ongoing|current|continuing|unfolding)\s+(?:[a-z-]+\s+)?$", re.IGNORECASE)
INSTALLATION = re.compile(r"checkpoints?|outposts?|observation\s+posts?|military\s+bases?|bases|garrisons?")
WHEN_BEFORE = re.compile(r"\b(?:after|as|when|once|before|while)\s+(?:the\s+)?(?:[\w§'-]+\s+){0,3}$", re.IGNORECASE)
GENERIC_AFTER = re.compile(
    r"\s+(?:that|which|where)\b|\s+(?:in|of|near|around|outside|inside|(?:east|west|north|south)\s+of)\s+(?:the\s+)?"
    r"(?:(?:north|south|east|west)(?:ern)?\s+|central\s+)?(?:(?:part|parts|side|half|edge|outskirts)\s+of\s+)?(?:the\s+)?"
    r"(?:(?-i:[A-Z])|city\b|town\b|village\b)", re.IGNORECASE)
ORG_WORDS = frozenset("""ministry committee nations observatory crescent cross agency news helmets organization
organisation commission union office council tribunal court parliament assembly government foundation institute
press media television tv radio network""".split())
PERSON_AFTER = re.compile(
    r",\s+(?:a|an|the)\s+(?:senior\s+|top\s+|prominent\s+|former\s+|local\s+|high-ranking\s+)?(?:" + lx.MASK +
    r"+\s+)?(?:[\w-]+\s+)?(?:commander|leader|emir|official|figure|member|fighter|financier|militant|spokesman|"
    r"officer|general|cleric|judge|deputy)\b", re.IGNORECASE)
UNNAMED_IN = re.compile(
    r"\b(?:towns?|villages?|cities|city|hamlets?|settlements?|areas?|positions|farms|hills?|hilltops?|points)\s+"
    r"(?:in|near|of|around|across|throughout)\s+(?:the\s+)?(?:(?:north|south|east|west)(?:-?(?:east|west))?(?:ern)?\s+|central\s+)?$",
    re.IGNORECASE)
KIND_OF = re.compile(r"\b(city|town|village|neighbou?rhood|district|camp|pocket|area)\s+of\s+$", re.IGNORECASE)
NUMBERED = frozenset("hill height heights point brigade base battalion regiment station checkpoint kilometer km road".split())
NUMBER_AFTER = re.compile(r"[ \t]+\d{1,4}\b(?![.,]\d)")
COUNTRIES = frozenset("syria iraq turkey jordan lebanon israel iran russia egypt".split())
TITLE_SMALL = frozenset("a an the of in on at to for from by and or with as into near".split())


@dataclass
class Mention:
    """A place mention (or an anaphor resolved later) in the masked document text."""

    start: int
    end: int
    name: str
    kind: str = ""           # feature kind: city, town, village, pocket, neighborhood, ...
    part: str = ""           # "south" for "Southern Deir Ezzor"
    anaphor: bool = False
    there: bool = False
    in_event: bool = False


@dataclass
class Item:
    """One place governed by a trigger, with how the event relates to it."""

    mention: Mention
    names: list[str]
    relation: str = ""
    from_place: str = ""
    distance_km: float | None = None
    bearing_deg: float | None = None
    target: str = ""
    partial: bool = False
    refs: list[str] = field(default_factory=list)


@dataclass
class _Doc:
    """Everything found in one document, indexed by position."""

    doc: Document
    text: str
    masked: str
    factions: list[tuple[int, int, str]]
    places: list[Mention]
    place_starts: list[int]
    triggers: list[re.Match]
    trigger_starts: list[int]
    boundaries: list[int]
    dates: list[DateMention]
    date_starts: list[int]
    hints: list[tuple[int, str]]
    registry: FactionRegistry
    claims: dict[int, bool] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# Document-level scanning
# ------------------------------------------------------------------------------------------
def _normalise(text: str) -> str:
    """Same-length copy with typographic quotes folded, so aliases like "Syrian Army's" match."""
    return text.translate(_FOLD)


_FOLD = str.maketrans("’‘“”\u2011\u2010", "''\"\"--")


@functools.lru_cache(maxsize=65536)
def _is_trigger_word(word: str) -> bool:
    return bool(lx.TRIGGER.fullmatch(word))


def _place_mentions(masked: str) -> list[Mention]:
    out: list[Mention] = []
    for m in lx.PLACE.finditer(masked):
        name_start = m.start("name")
        tokens = list(re.finditer(r"\S+", m.group("name")))
        # Split the run of capitalised words at function words and trigger words (title case
        # headlines: "Makes Advances In Deir-Ez-Zor", "Clearing Northern Deir Ezzor From").
        runs: list[list[re.Match]] = [[]]
        for t in tokens:
            w = t.group()
            low = w.lower().rstrip(".,")
            if w[:1].islower() and runs[-1] and t is not tokens[-1] and not COMPOUND_OK.match(w):
                runs[-1].append(t)  # a particle inside a name: "Shaqqat an Nuhaylah", "Thaniyat as Safwani"
            elif low in lx.STOP_FIRST and not re.fullmatch(lx.DIR_ADJ, low, re.IGNORECASE) or (
                w[:1].isupper() and _is_trigger_word(w)
            ) or w.lower() in ("al", "el", "ad") and t is tokens[-1] or COMPOUND_OK.match(w) or w.lower() in COUNTRIES:
                runs.append([])
            else:
                runs[-1].append(t)
        runs = [r for r in runs if r]
        for k, run in enumerate(runs):
            part = ""
            while run and re.fullmatch(r"(?:north|south)(?:-?(?:east|west))?ern|eastern|western|northern|southern|central",
                                       run[0].group(), re.IGNORECASE):
                part = _dir_of(run[0].group()) or part
                run = run[1:]
            if not run:
                continue
            s = name_start + run[0].start()
            e = name_start + run[-1].end()
            name = masked[s:e]
            is_last = k == len(runs) - 1 and run[-1] is tokens[-1]
            feature = m.group("feature").strip() if is_last else ""
            if name.endswith(("'s", "'")):
                continue  # a possessive is a person or an organisation, not a target
            if run[0].group().lower() in ("operation", "operations", "op"):
                continue  # "Operation Roundup", "Operation Peace Spring": a campaign, not a place
            if name.lower() in lx.NOT_PLACE or lx.NATIONALITY.match(name) and not feature:
                continue
            kind = ""
            last_word = run[-1].group().lower()
            if not feature and last_word in ("province", "governorate", "countryside", "district", "region", "desert"):
                kind = last_word  # "Deir ez-Zor Province"
            if feature:
                e = m.end()
                kind = feature.split()[-1].lower()
                name = masked[s:e]
            if len(name) < 2 or not re.search(r"[A-Za-z]{2}|[A-Z]\d", name):
                continue
            if not feature and any(t.group().lower() in ORG_WORDS for t in run):
                continue  # "the Red Cross", "the Syrian Observatory", "the Defence Ministry": not places
            if not kind:
                km = KIND_OF.search(masked, max(0, s - 40), s)
                if km:
                    kind = km.group(1).lower()  # "the border city of Abu Kamal"
            if not feature and last_word in NUMBERED and (num := NUMBER_AFTER.match(masked, e)):
                e = num.end()  # "Hill 853", "Brigade 137", "Point 325"
                name = masked[s:e]
            out.append(Mention(s, e, name, kind=kind, part=part))
    return out


def _dir_of(word: str) -> str:
    w = word.lower().replace("ern", "").replace("-", "")
    return {"central": "centre"}.get(w, w) if w in ("north", "south", "east", "west", "northeast", "northwest",
                                                    "southeast", "southwest", "central") else ""


def _noun_control(masked: str, t: re.Match) -> bool:
    """ "under government control", "outside of SDF control": the noun, not the verb."""
    if t.group(0).lower() != "control":
        return False
    before = masked[max(0, t.start() - 40) : t.start()]
    return bool(re.search(r"\b(?:under|outside|of|from|into|in|beyond|within|the|their|its|full|total|effective)\s+"
                          r"(?:the\s+)?(?:full\s+)?(?:" + lx.MASK + r"+\s+|government\s+|regime\s+|opposition\s+)?$",
                          before, re.IGNORECASE))


def _scan(doc: Document, factions: FactionRegistry) -> _Doc:
    text = doc.text
    norm = _normalise(text)
    found = find_factions(factions, norm)
    parts, pos = [], 0
    for s, e, _ in found:
        parts += [norm[pos:s], lx.MASK * (e - s)]
        pos = e
    parts.append(norm[pos:])
    masked = "".join(parts)
    lowered = masked.lower()
    # Offsets must stay exact: text whose lower case changes length takes the slower path.
    lower: str | None = lowered if len(lowered) == len(masked) else None
    places = _place_mentions(masked)
    anaphora = []
    for m in lx.ANAPHORA.finditer(masked):
        if m.group("there"):
            anaphora.append(Mention(m.start(), m.end(), m.group("there"), anaphor=True, there=True))
        else:
            kind = m.group("kind").lower().replace("air base", "airbase").replace("oil field", "field")
            anaphora.append(Mention(m.start(), m.end(), m.group(0), kind=kind, anaphor=True))
    # A place match wins over an anaphor at the same spot ("the town of X" is never an anaphor).
    taken = [(p.start, p.end) for p in places]
    allm = places + [a for a in anaphora if not any(s < a.end and a.start < e for s, e in taken)]
    allm.sort(key=lambda p: p.start)
    # "the territory it held in X" is a description; "X, which it seized" is a statement.
    relatives = [(m.start("rel"), m.end("rel")) for m in lx.SKIPPABLE_RELATIVE.finditer(masked)]
    spans = sorted([(s, e) for s, e in relatives] + [(p.start, p.end) for p in places])
    span_starts = [s for s, _ in spans]
    triggers = []
    found_triggers = lx.TRIGGER_LOWER.finditer(lower) if lower is not None else lx.TRIGGER.finditer(masked)
    for t in found_triggers:
        k = bisect.bisect_right(span_starts, t.start()) - 1
        if k >= 0 and spans[k][0] <= t.start() and t.end() <= spans[k][1]:
            continue  # "the Ramouseh artillery academy", "the al-Tanf garrison": part of a name
        if not _noun_control(masked, t):
            triggers.append(t)
    boundaries = [m.start() for m in (lx.BOUNDARY_LOWER.finditer(lower) if lower is not None
                                      else lx.BOUNDARY.finditer(masked))]
    dates = find_dates(norm, doc.date)
    hints: list[tuple[int, str]] = []
    seen_hint = -1
    for key in lx.HINT_KEY.finditer(lowered):
        # The hint regex is costly; run it only around its keywords.
        a = max(0, key.start() - 60, seen_hint)
        for h in lx.CONTEXT_HINT.finditer(norm, a, key.end() + 40):
            name = (h.group("name") or h.group("name2") or "").strip()
            if h.start() >= seen_hint and name and name.lower() not in lx.STOP_FIRST and lx.MASK not in masked[h.start():h.end()]:
                hint = norm[h.start():h.end()].strip()
                first = hint.split(" ", 1)
                if len(first) == 2 and first[0].lower() in lx.STOP_FIRST and not re.fullmatch(lx.DIR_ADJ, first[0], re.IGNORECASE):
                    hint = first[1]  # "In Daraa governorate" -> "Daraa governorate"
                hints.append((h.start(), hint))
                seen_hint = h.end()
    return _Doc(doc, text, masked, found, allm, [p.start for p in allm], triggers, [t.start() for t in triggers],
                boundaries, dates, [d.start for d in dates], hints, factions)


# ------------------------------------------------------------------------------------------
# Object parsing: which places a trigger governs
# ------------------------------------------------------------------------------------------
def _word_ok(tok: str) -> bool:
    low = tok.lower()
    return (
        low in lx.GAP_WORDS
        or tok.startswith(lx.MASK)
        or bool(NUMBERISH.match(tok))
        or bool(COMPOUND_OK.match(tok))
        or low in DATE_WORDS
        or low in lx.DIRS
        or not re.search(r"\w", tok)  # punctuation
        or low in ("'s", "'", "km.", "kms")
    )


def _segments(gap: str, base: int) -> list[tuple[int, int]]:
    """(start, end) of the pieces of ``gap`` between list separators, absolute positions."""
    out, pos = [], 0
    for m in SEPARATOR.finditer(gap):
        out.append((base + pos, base + m.start()))
        pos = m.end()
    out.append((base + pos, base + len(gap)))
    return out


def _check_gap(d: _Doc, a: int, b: int, started: bool, action: str) -> tuple[bool, list[tuple[int, int]]]:
    """Whether the text masked[a:b] may stand between a trigger (or a list item) and a place.

    Returns (ok, lowercase list items) where the items are segments skipped inside a list
    that end in a feature noun ("the central park area").
    """
    gap = d.masked[a:b]
    if lx.BOUNDARY.search(gap):
        return False, []
    for m in lx.SKIPPABLE_RELATIVE.finditer(gap):
        gap = gap[: m.start("rel")] + " " * (m.end("rel") - m.start("rel")) + gap[m.end("rel"):]
    tokens = WORD_TOKEN.findall(gap)
    if len(tokens) > 28:
        return False, []
    segs = _segments(gap, a)
    items: list[tuple[int, int]] = []
    pending_join_start: int | None = None
    for i, (s, e) in enumerate(segs):
        seg = gap[s - a : e - a]
        unknown = [t for t in WORD_TOKEN.findall(seg) if not _word_ok(t)]
        last = i == len(segs) - 1
        first = i == 0
        if not unknown:
            continue
        if last:
            # "in southern Idlib": the direction word belongs to the place.
            seg_core = DIR_ADJ_END.sub(" ", seg)
            if action in LOOSE_ACTIONS and len(unknown) <= 5 and lx.LOCATIVE_END.search(DIR_ADJ_END.sub(" ", gap)):
                continue
            loc = lx.LOCATIVE_END.search(seg_core)
            if loc and len(unknown) <= 3 and lx.FEATURE_HEAD.search(seg_core[: loc.start()].rstrip()):
                continue  # "the army's vehicle base in Harasta", "the NDZ headquarters in Darat Izza"
            return False, []
        if first and not started:
            if action in LOOSE_ACTIONS and len(unknown) <= 5:
                continue
            return False, []
        if len(WORD_TOKEN.findall(seg)) > 9:
            return False, []
        if lx.FEATURE_HEAD.search(seg.strip()):
            # "the school of law and education area": one item though "and" split it.
            if pending_join_start is not None:
                items.append((pending_join_start, e))
            else:
                items.append((s, e))
            pending_join_start = None
        else:
            pending_join_start = s if pending_join_start is None else pending_join_start
    return True, items


def _resolve_anaphor(mention: Mention, memory: list[Mention], last_places: list[Mention]) -> list[Mention]:
    """The place "the town" / "there" refers to: the last one of the same kind, preferring the
    places of earlier statements over places merely mentioned."""
    if mention.there:
        return list(last_places)
    kind = mention.kind
    settlement = kind in ("city", "town", "village")
    recent = memory[-40:]
    for p in reversed(recent):
        if p.kind == kind:
            return [p]
    if kind in ("pocket", "enclave", "area"):
        for p in reversed(recent):
            if p.kind in ("region", "pocket", "enclave", "countryside"):
                return [p]
    for require_event in (True, False):
        for p in reversed(recent):
            if require_event and not p.in_event:
                continue
            if settlement and p.kind in lx.SETTLEMENT_KINDS:
                return [p]
            if kind == "area" and p.kind in ("area", "pocket", "neighborhood", "neighbourhood", "district"):
                return [p]
            if kind == "field" and p.kind in ("field", "fields"):
                return [p]
    for p in reversed(recent):
        if p.in_event and p.kind not in CONTEXT_KINDS:
            return [p]  # "the hilltop", "the garrison": the last place a statement was about
    return []


def _parse_object(d: _Doc, a: int, b: int, action: str, memory: list[Mention],
                  last_places: list[Mention]) -> list[Item]:
    """The places governed by a trigger whose object text is masked[a:b]."""
    lo = bisect.bisect_left(d.place_starts, a)
    hi = bisect.bisect_left(d.place_starts, b)
    candidates = [p for p in d.places[lo:hi] if p.end <= b]
    items: list[Item] = []
    pos = a
    started = False
    skip_next = False
    for k, c in enumerate(candidates):
        if skip_next:
            skip_next = False
            pos = c.end
            continue
        if not c.anaphor and PERSON_AFTER.match(d.masked, c.end):
            break  # "captured Abu Omar, a senior ISIS commander": a person
        if c.anaphor and not c.there and GENERIC_AFTER.match(d.masked, c.end):
            continue  # "the area that it had been controlling in X": a generic noun, not "the area" = X
        gap_text = d.masked[pos:c.start]
        region = bool(c.part) or c.kind in CONTEXT_KINDS or bool(DIR_ADJ_END.search(gap_text))
        if region and action != "attack" and UNNAMED_IN.search(gap_text):
            break  # "a strategic town in southern Idlib", "eight villages in the Afrin countryside": unnamed
        ok, lower_items = _check_gap(d, pos, c.start, started, action)
        if not ok:
            break
        for s, e in lower_items:
            items.append(_lower_item(d, s, e))
        gap = d.masked[pos:c.start]
        tail_gap = gap.split(",")[-1]
        names = [c.name] if not c.anaphor else [r.name for r in _resolve_anaphor(c, memory, last_places)]
        if not names:
            pos, started = c.end, True
            continue
        if started and items and action == "advance" and items[-1].names[0].lower().replace(" river", "") in lx.RIVERS \
                and LOCATOR_GAP.fullmatch(gap):
            # "crossed the Euphrates near Deir ez-Zor": the crossing is at the town, not along the river.
            items[-1] = Item(c, [c.name], relation="near")
            pos = c.end
            continue
        if started and items and (c.kind in CONTEXT_KINDS and not re.search(r"\band\b|\bor\b", gap) or LOCATOR_GAP.fullmatch(gap)):
            # "Mesraba in Eastern Ghouta", "the Sheikh Saeed district of eastern Aleppo", "al-Hari,
            # south-east of Abu Kamal": the second name locates the first, it is no new place.
            for it in items:
                it.refs.append(c.name)
            if not c.kind:
                c.kind = "region"  # a later "the pocket" may mean it
            pos = c.end
            continue
        if action == "advance" and re.search(r"\balong\s+(?:the\s+)?$", gap, re.IGNORECASE):
            pos = c.end  # "advanced along the Euphrates": the route, not a place reached
            continue
        if c.there and items and c.name.lower().startswith("its"):
            pos = c.end  # "Khan Shaykhun and its countryside": the place already listed
            continue
        if action == "withdraw" and WITHDRAW_DESTINATION.search(d.masked[a:c.start]):
            break  # "pulled back to positions north of the town": where they went, not what they left
        if c.there and action == "withdraw" and re.match(r"\s+from\b", d.masked[c.end : c.end + 6]):
            pos = c.end  # "pulled back there from Afrin": "there" is where they went
            continue
        item = Item(c, names)
        if c.part:
            item.relation = f"part:{c.part}"
        if c.there and c.name.lower().startswith("its"):
            dm = re.search(r"(north|south|east|west)(?:-?(east|west))?", c.name, re.IGNORECASE)
            if dm:
                item.relation = "part:" + dm.group(0).lower().replace("-", "")
        off = lx.OFFSET_TAIL.search(gap)
        dir_of = lx.DIR_OF_TAIL.search(gap)
        tail = off or dir_of
        adjacent = started and not SEPARATOR.search(gap[: tail.start()] if tail else gap)
        if off:
            dist = float(off.group("n"))
            unit = off.group("u").lower()
            dist = dist * 1.609 if unit.startswith("mi") else dist / 1000 if unit in ("m", "meters", "metres") else dist
            direction = (off.group("dir") or "").lower()
            if adjacent and items and items[-1].relation in ("",) and not items[-1].from_place:
                # "a factory in Hisyah 30km south of Homs": the offset locates the previous place.
                items[-1].from_place, items[-1].distance_km = names[0], dist
                items[-1].bearing_deg = lx.DIRS.get(direction)
                items[-1].refs.append(names[0])
                pos = c.end
                continue
            if direction and off.group("prep").lower() == "of":
                item.relation, item.from_place = "offset", names[0]
                item.distance_km, item.bearing_deg = dist, lx.DIRS.get(direction)
            elif (off.group("q") or "").lower() == "within":
                item.relation, item.from_place, item.distance_km = "near", names[0], dist
            else:
                # "Sukhnah, approximately 130km from Deir ez-Zor": a distance, not a place reached.
                if action == "advance" and items and not items[-1].target:
                    items[-1].target = names[0]
                pos = c.end
                continue
        elif dir_of:
            dirs = re.findall(lx.DIR, dir_of.group("dirs"), re.IGNORECASE)
            if adjacent and items:
                # "al-Akidat and al-Bakaara east of Deir Ezzor city": locates the list, no new place.
                for it in items:
                    it.refs.append(names[0])
                pos = c.end
                continue
            if len(dirs) == 1:
                item.relation, item.from_place, item.bearing_deg = "offset", names[0], lx.DIRS.get(dirs[0].lower())
            else:
                item.relation = "near"
        elif m := lx.BANK_TAIL.search(tail_gap):
            side = m.group("dir").lower()
            item.relation = "bank:" + ("west" if side.startswith(("west", "right")) else "east")
        elif m := lx.PART_TAIL.search(tail_gap):
            item.relation = "part:" + _dir_of(m.group("dir") or m.group("dir2"))
        elif lx.BETWEEN_TAIL.search(tail_gap):
            nxt = candidates[k + 1] if k + 1 < len(candidates) else None
            if nxt and re.fullmatch(r"\s+and\s+(?:the\s+)?", d.masked[c.end:nxt.start], re.IGNORECASE):
                item.relation = f"between:{nxt.name}"
                skip_next = True
        elif lx.ORIGIN_TAIL.search(tail_gap):
            if action == "advance":
                item.from_place = names[0]
            elif action not in ("withdraw",):
                pos = c.end
                continue
        elif lx.TARGET_TAIL.search(tail_gap) and action in ("advance", "withdraw"):
            dm = HEADING_TAIL.search(tail_gap)
            if dm and action == "advance":
                item.distance_km = float(dm.group(1))
                item.bearing_deg = lx.DIRS.get(dm.group(2).lower()) if dm.group(2) else None
            if items and not items[-1].target and (items[-1].relation == "offset" or action == "withdraw"):
                items[-1].target = names[0]
                pos = c.end
                continue
            if action == "withdraw":
                pos = c.end
                continue
            item.relation, item.target = "near", names[0]
        elif lx.NEAR_TAIL.search(tail_gap):
            item.relation = "near"
            if action == "advance":
                item.target = names[0]
        if lx.PARTIAL_TAIL.search(tail_gap) or re.search(r"\bpartially\b", gap, re.IGNORECASE):
            item.partial = True
        items.append(item)
        started = True
        pos = c.end
    if started:
        ok, lower_items = _check_gap(d, pos, b, started, action)
        for s, e in lower_items:
            items.append(_lower_item(d, s, e))
    # "advanced 18km southwest of Mayadin towards the T2 pumping station": a lowercase target.
    if action == "advance" and items and not items[-1].target:
        tm = re.match(r"^\s*(?:towards?|in\s+the\s+direction\s+of)\s+(?:the\s+)?([\w§' -]{3,40}?)(?=\s*(?:,|\.|;|$|\band\b))",
                      d.masked[items[-1].mention.end : b], re.IGNORECASE)
        if tm:
            items[-1].target = d.text[items[-1].mention.end + tm.start(1) : items[-1].mention.end + tm.end(1)]
    return items


def _lower_item(d: _Doc, s: int, e: int) -> Item:
    seg = d.text[s:e]
    lead = re.match(r"^\s*(?:the\s+)?", seg, re.IGNORECASE)
    s2 = s + (lead.end() if lead else 0)
    e2 = s + len(seg.rstrip())
    name = d.text[s2:e2]
    return Item(Mention(s2, e2, name, kind="area"), [name])


# ------------------------------------------------------------------------------------------
# Actors
# ------------------------------------------------------------------------------------------
def _subject_role(d: _Doc, s: int, e: int, sent_start: int, ts: int | None = None) -> bool:
    """Whether the faction mention masked[s:e] can be the subject (doer) of a statement."""
    after = d.masked[e : e + 60]
    if ts is not None and re.fullmatch(r"(?:'s)?\s+(?:\w+ly\s+|still\s+|now\s+|were\s+|was\s+|had\s+|have\s+|has\s+)*",
                                       d.masked[e:ts]):
        return True  # directly before its verb: "with ISIS entrenched in", "as the YPG withdrew"
    before = d.masked[max(sent_start, s - 40) : s]
    if re.search(r"\b(?:troops|fighters|forces|units|members|militants|soldiers|elements|brigades?|battalions?|"
                 r"divisions?|elements|commanders?)\s+of\s+(?:the\s+)?$", before, re.IGNORECASE):
        return True  # "Troops of the 5th Corps"
    if OBJECT_ROLE.search(before):
        return False
    if VICTIM_AFTER.match(after):
        return False
    if (ts is None or s >= ts) and SPEAKER_AFTER.match(after):
        return False  # "..., the YPG said": who reports, not who acts
    return True


def _chain(d: _Doc, idx: int, lo_bound: int, hi_bound: int) -> tuple[int, int, list[str]]:
    """Extend a faction mention over coordinated ones: "the Tiger Forces and the Republican Guard".

    Returns the span and the factions of the coordinated heads: "rebels and Jabhat al-Nusra
    fighters" names two factions, "Euphrates Shield rebels" one (the first word decides).
    """
    f = d.factions
    first = last = idx
    while first - 1 >= 0 and f[first - 1][0] >= lo_bound and CHAIN_GAP.match(d.masked[f[first - 1][1] : f[first][0]]):
        first -= 1
    while last + 1 < len(f) and f[last + 1][1] <= hi_bound and CHAIN_GAP.match(d.masked[f[last][1] : f[last + 1][0]]):
        last += 1
    s, e = f[first][0], f[last][1]
    factions = [f[first][2]]
    depth = 0
    for j in range(first + 1, last + 1):
        gap = d.masked[f[j - 1][1] : f[j][0]]
        depth += gap.count("(") - gap.count(")")
        if depth <= 0 and re.search(r",|\band\b|&", gap) and not re.search(r"including|backed", gap, re.IGNORECASE):
            factions.append(f[j][2])
    # Keep "the" and a preceding adjective as written ("the US-backed Syrian Democratic Forces").
    lead = re.search(r"(?:\bthe\s+)?(?:[\w-]+-(?:backed|led|supported|allied)\s+)?$", d.masked[max(lo_bound, s - 30) : s],
                     re.IGNORECASE)
    if lead and lead.group():
        s -= len(lead.group())
    return s, e, list(dict.fromkeys(factions))


Actor = tuple[str, list[str]]


def _actor_at(d: _Doc, i: int, sent: Sentence) -> Actor:
    s, e, fids = _chain(d, i, sent.start, sent.end)
    text = d.text[s:e].strip()
    if text.count("(") > text.count(")"):
        text = text[: text.rfind("(")].strip()  # "militias (including Hezbollah, ...": keep the head
    if re.search(r"\bbetween\s+$", d.masked[max(sent.start, s - 10) : s], re.IGNORECASE):
        fids = fids[:1]  # "clashes between the SDF and Turkish-backed factions": the first side
    return text, fids


def _find_actor(d: _Doc, sent: Sentence, ts: int, te: int, obj_end: int, subject_is_place: bool,
                action: str, carry: Actor | None) -> Actor | None:
    f = d.factions
    lo = bisect.bisect_left(f, (sent.start, -1, ""))
    hi = bisect.bisect_left(f, (sent.end, -1, ""))
    by_start = {f[i][0]: i for i in range(lo, hi)}
    # Agent of a passive or a nominal: "fell to ISIS", "was captured by the SDF", "the capture of X by Y".
    trig = d.masked[ts:te].lower()
    direct = trig.endswith((" to", " of", "into"))
    for pos in ((te, obj_end) if not subject_is_place else (te,)):
        window = d.masked[pos : min(sent.end, pos + 60)]
        m = AGENT_DIRECT.match(window) if (direct and pos == te) else lx.AGENT_AFTER.match(window)
        if m and (subject_is_place or direct or m.group(0).lstrip(" ,").lower().startswith("by")):
            i = by_start.get(pos + m.start(1))
            if i is not None:
                return _actor_at(d, i, sent)
    if action == "attack" and REPELLED_BEFORE.search(d.masked[max(sent.start, ts - 60) : ts]):
        # "QSD fighters repelled a Daesh attack": the attacker is the modifier, or nobody named.
        mod = re.search("(" + lx.MASK + r"+)(?:'s)?\s+(?:[a-z-]+\s+)?$", d.masked[max(sent.start, ts - 50) : ts])
        i = by_start.get(max(sent.start, ts - 50) + mod.start(1)) if mod else None
        return _actor_at(d, i, sent) if i is not None else ("", ["unknown"])
    led = LED_BEFORE.search(d.masked, max(sent.start, ts - 40), ts)
    if led and NOUN_TRIGGER.search(trig):
        fid = d.registry.resolve(led.group(1))
        if fid:
            return led.group(0).split("-")[0], [fid]  # "the HTS-led offensive"
    # A modifier of the trigger noun: "a Daesh attack", "a Turkish drone strike", "an ISIS advance".
    mod = re.search("(" + lx.MASK + r"+)(?:'s)?\s+(?:[a-z-]+\s+)?$", d.masked[max(sent.start, ts - 50) : ts])
    if mod and not subject_is_place and NOUN_TRIGGER.search(trig):
        i = by_start.get(max(sent.start, ts - 50) + mod.start(1))
        if i is not None and not re.search(r"\b(?:on|against|at|targeting|with|between)\s+(?:the\s+)?(?:\w+\s+)?$",
                                            d.masked[max(sent.start, f[i][0] - 25) : f[i][0]], re.IGNORECASE):
            return _actor_at(d, i, sent)
    cstart = _clause_start(d, sent, ts)
    # A relative clause: "the YPG, which pulled back": the antecedent acts.
    rel = re.search("(" + lx.MASK + r"+)\s*,\s*(?:which|who)\s+(?:\w+\s+){0,5}$", d.masked[max(sent.start, ts - 90) : ts])
    if rel:
        i = by_start.get(max(sent.start, ts - 90) + rel.start(1))
        if i is not None:
            return _actor_at(d, i, sent)
    # A pronoun or a generic noun as subject: "they also entered", "the militants retook": the previous actor.
    pron = re.search(r"\b(?:they|it|he|she|the\s+group|the\s+militants|the\s+jihadists|the\s+group's\s+fighters|"
                     r"its\s+fighters|their\s+fighters|the\s+fighters|the\s+troops|the\s+insurgents)\b[^§,;]*$",
                     d.masked[max(cstart, ts - 60) : ts], re.IGNORECASE)
    subject = None
    for i in range(hi - 1, lo - 1, -1):
        s, e, fid = f[i]
        if e <= ts and _subject_role(d, s, e, sent.start, ts):
            subject = i
            break
    if pron:
        base = max(cstart, ts - 60)
        said = SPEAKER_BEFORE.search(d.masked[max(sent.start, base + pron.start() - 60) : base + pron.start()])
        if said:
            i = by_start.get(max(sent.start, base + pron.start() - 60) + said.start(1))
            if i is not None:
                return _actor_at(d, i, sent)  # "Rebels said they had pulled back": the speakers
    if pron and carry is not None and (subject is None or f[subject][1] < max(cstart, ts - 60) + pron.start()):
        return carry
    if subject is not None:
        text, fids = _actor_at(d, subject, sent)
        if carry is not None and GENERIC_ACTOR.fullmatch(text):
            return carry
        return text, fids
    if action in LOOSE_ACTIONS:
        for i in range(lo, hi):
            if re.search(r"\bbetween\s+(?:the\s+)?$", d.masked[max(sent.start, f[i][0] - 20) : f[i][0]], re.IGNORECASE):
                return _actor_at(d, i, sent)
    # A fronted participle or nominal: "In addition to advancing on Abu Kamal, pro-government forces
    # ...", "Fighting for Tal Rifaat raged on Friday as the YPG ...": the subject named later.
    for i in range(lo, hi):
        s, e, fid = f[i]
        if s >= obj_end and _subject_role(d, s, e, sent.start) and not re.search(
                r"\b(?:on|against|at|targeting|with|between|by|of|from|to|towards?)\s+(?:the\s+)?(?:[\w-]+\s+)?$",
                d.masked[max(sent.start, s - 25) : s], re.IGNORECASE):
            return _actor_at(d, i, sent)
    return None


# ------------------------------------------------------------------------------------------
# Modality and dates
# ------------------------------------------------------------------------------------------
def _clause_start(d: _Doc, sent: Sentence, ts: int) -> int:
    i = bisect.bisect_left(d.boundaries, ts)
    while i > 0:
        b = d.boundaries[i - 1]
        if b < sent.start:
            break
        ch = d.masked[b]
        if ch in ";:" or d.masked[b : b + 4].lower() in ("but ", ", bu") or d.masked[b:b + 3] == " – ":
            return b
        i -= 1
    return sent.start


def _modality(d: _Doc, sent: Sentence, ts: int, te: int) -> tuple[str, bool]:
    """(modality, attempt) of the trigger at masked[ts:te]."""
    cstart = _clause_start(d, sent, ts)
    pre = d.masked[max(cstart, ts - 90) : ts]
    near = d.masked[max(cstart, ts - 35) : ts]
    attempt = bool(lx.ATTEMPT_CUE.search(pre))
    if lx.NEGATED_CUE.search(near) and not NOT_ONLY.search(near):
        return "negated", attempt
    if SIEGE_ENDS.search(near):
        return "negated", attempt  # "breaking the siege of X": the siege ends
    if attempt:
        return "asserted" if not lx.EXPECTED_CUE.search(pre) else "expected", True
    cue = lx.EXPECTED_CUE.search(pre)
    if cue and cue.group(0).lower() in ("likely", "possibly", "potential", "possible") and \
            PAST_TRIGGER.search(pre[cue.end():] + d.masked[ts:te]) and not lx.EXPECTED_CUE.search(pre, cue.end()):
        return "claimed", False  # "ISIS likely conducted the attack": an assessment of the past
    if cue or (lx.INFINITIVE_TO.search(pre) and not lx.FACTUAL_TO.search(pre)):
        return "expected", False
    claimed = d.claims.get(sent.start)
    if claimed is None:
        claimed = d.claims[sent.start] = _is_claim(d.masked[sent.start : sent.end])
    return ("claimed" if claimed else "asserted"), False


def _is_claim(sentence: str) -> bool:
    """Rumours, "reportedly", and statements a party to the fighting makes about itself."""
    if lx.CLAIMED_CUE.search(sentence):
        return True
    for m in lx.SPEECH_VERB.finditer(sentence):
        speaker = re.split(r"[,;:.]", sentence[max(0, m.start() - 70) : m.start()])[-1]
        if lx.BELLIGERENT.search(speaker):
            return True  # "..., the Turkish defence ministry said": a party's claim
    for m in lx.ACCORDING_TO.finditer(sentence):
        speaker = re.split(r"[,;:.]", sentence[m.end() : m.end() + 70])[0]
        if lx.BELLIGERENT.search(speaker):
            return True
    return False


def _date_for(d: _Doc, sent: Sentence, ts: int, te: int, action: str) -> tuple[dt.date, str]:
    """The date of the statement whose trigger is at masked[ts:te]: a date phrase of its clause
    (after the verb first: "captured X on Sunday"), else one that opens the sentence ("On
    Tuesday, ..."), else the report date."""
    lo = bisect.bisect_left(d.date_starts, sent.start)
    hi = bisect.bisect_left(d.date_starts, sent.end)
    mentions = [m for m in d.dates[lo:hi] if not m.text.lower().startswith("since")]
    if not mentions:
        return d.doc.date, "doc"
    cstart = _clause_start(d, sent, ts)
    bi = bisect.bisect_right(d.boundaries, te)
    cend = sent.end
    while bi < len(d.boundaries) and d.boundaries[bi] < sent.end:
        b = d.boundaries[bi]
        if not _soft_boundary(d, b):
            cend = b
            break
        bi += 1
    after = [m for m in mentions if te <= m.start < cend]
    if after:
        return after[0].date, after[0].precision
    before = [m for m in mentions if cstart <= m.start < ts and not _hard_between(d, m.end, ts)]
    if before:
        return before[-1].date, before[-1].precision
    if SUBORDINATE_START.match(d.masked, sent.start):
        return d.doc.date, "doc"  # "Since the offensive began in September, ...": not the main clause's date
    bj = bisect.bisect_right(d.boundaries, sent.start)
    first_b = d.boundaries[bj] if bj < len(d.boundaries) else sent.end
    opening = [m for m in mentions if m.start < min(first_b + 1, ts) or re.fullmatch(r"[\s,]*", d.masked[sent.start:m.start])]
    opening = [m for m in opening if m.start < ts]
    if opening:
        return opening[0].date, opening[0].precision
    return d.doc.date, "doc"


def _hard_between(d: _Doc, a: int, b: int) -> bool:
    i = bisect.bisect_left(d.boundaries, a)
    while i < len(d.boundaries) and d.boundaries[i] < b:
        if not _soft_boundary(d, d.boundaries[i]):
            return True
        i += 1
    return False


def _soft_boundary(d: _Doc, b: int) -> bool:
    """Boundaries that do not end a clause for dating: a dash, quotes, parentheses."""
    return d.masked[b] in "\"()[]–—-" or d.masked[b : b + 2] in (" –", " —", " -")


def _context(d: _Doc, pos: int, refs: list[str]) -> tuple[str, ...]:
    hints = sorted(d.hints, key=lambda h: abs(h[0] - pos))
    out = list(dict.fromkeys([*refs, *(h[1] for h in hints)]))
    return tuple(out[:5])


# ------------------------------------------------------------------------------------------
# The extractor
# ------------------------------------------------------------------------------------------
PLACE_SUBJECT_GROUPS = ("capture__7", "hold__1")


def extract(doc: Document, factions: FactionRegistry) -> list[Statement]:
    """Every control statement of ``doc``: one Statement per (statement, place).

    Parameters
    ----------
    doc : a Document from ``ingest.read_reports``; offsets refer to ``doc.text``.
    factions : the FactionRegistry that maps actors to faction ids.

    Examples
    --------
    >>> import datetime as dt
    >>> from geo_control.records import Document
    >>> doc = Document("r.txt", "On Tuesday, the SDF captured the villages of Numeisa and al-Jaber.",
    ...                dt.date(2017, 8, 16), "option", "")
    >>> [(s.action, s.faction, s.place, s.date.isoformat()) for s in extract(doc, FactionRegistry.default())]
    [('capture', 'sdf', 'Numeisa', '2017-08-15'), ('capture', 'sdf', 'al-Jaber', '2017-08-15')]
    """
    d = _scan(doc, factions)
    out: list[Statement] = []
    memory: list[Mention] = []          # places a later "the town" may refer to, in reading order
    last_places: list[Mention] = []     # the places of the last statement ("there", "both towns")
    carry: Actor | None = None          # the paragraph's last actor: "Soon, they ..."
    recent_actors: list[Actor] = []
    para_date: tuple[dt.date, str] | None = None
    vacated: dict[str, str] = {}
    para = -1
    pm = 0  # index into d.places for the anaphora memory
    for sent in split_sentences(doc.text):
        if sent.paragraph != para:
            para, carry, para_date = sent.paragraph, None, None
            vacated = {}  # place -> faction that left it, in this paragraph
        lo = bisect.bisect_left(d.trigger_starts, sent.start)
        hi = bisect.bisect_left(d.trigger_starts, sent.end)
        triggers = d.triggers[lo:hi]
        sent_out: list[Statement] = []
        title = _title_case(doc.text[sent.start:sent.end])
        sent_actor: Actor | None = None
        sent_date: tuple[dt.date, str] | None = None
        for k, m in enumerate(triggers):
            ts, te = m.start(), m.end()
            pm = _remember(d, pm, ts, memory)
            action = lx.trigger_action(m)
            later = [t for t in triggers[k + 1 :] if not INSTALLATION.fullmatch(t.group(0).lower())]
            nxt = later[0].start() if later else sent.end  # "attacked an SDF checkpoint in X": one object
            between = d.masked[te:nxt]
            if k + 1 < len(triggers) and COORDINATED.fullmatch(between):
                continue  # "stormed and took X": the last verb carries the object
            bi = bisect.bisect_right(d.boundaries, te)
            obj_end = min(nxt, sent.end, d.boundaries[bi] if bi < len(d.boundaries) else sent.end)
            before = d.masked[max(sent.start, ts - 40) : ts]
            participle = bool(lx.PARTICIPLES.search(m.group(0)))
            declared = participle and bool(DECLARED_BEFORE.search(d.masked[max(sent.start, ts - 60) : ts]))
            passive = participle and (bool(lx.BE_BEFORE.search(before)) or bool(re.match(r"\s+by\s", d.masked[te : te + 5]))
                                      or bool(re.search(r",\s*$", before) and re.match(r"\s+by\s", d.masked[te : te + 5]))
                                      or declared)
            if action == "attack" and CAME_UNDER.search(before):
                passive = True  # "the town came under heavy shelling"
            subject_is_place = passive or m.lastgroup in PLACE_SUBJECT_GROUPS or (
                action == "contest" and m.group(0).lower().endswith(("contested", "disputed")))
            if action == "withdraw" and CIVILIANS.search(d.masked[max(sent.start, ts - 50) : ts]):
                continue  # "civilians were evacuated from the town": not a force leaving
            if subject_is_place:
                items = _subject_place(d, sent, ts, memory, last_places, declared)
            else:
                items = _parse_object(d, te, obj_end, action, memory, last_places)
                if not items:
                    items = _relative_object(d, sent, ts, te, memory, last_places)
            implicit_subject = False
            if not items and sent_out and action in ("attack", "contest", "advance", "siege") and IMPLICIT_BEFORE.search(
                    d.masked[max(sent.start, ts - 60) : ts]):
                # "captured X after days of heavy bombardment", "reversing an ISIS advance": the same place.
                prev = sent_out[-1]
                items = [Item(Mention(prev.start, prev.end, prev.place, anaphor=True), [prev.place])]
            elif not items and sent_out and action == "attack" and FIGHTING_REPORTED.match(d.masked, te) and \
                    _clause_start(d, sent, ts) > sent.start:
                # "..., but clashes and even airstrikes were reported on September 9": fighting at the place
                # the sentence is about, by sides it does not name.
                prev = sent_out[-1]
                items = [Item(Mention(prev.start, prev.end, prev.place, anaphor=True), [prev.place])]
                implicit_subject = True
            besieged_side = None
            if not items and action == "siege" and passive:
                # "regime forces, who have been besieged": the place they hold, besieged by the other side.
                bm = BESIEGED_SIDE.search(d.masked[max(sent.start, ts - 60) : ts])
                if bm and sent_out:
                    fs = max(sent.start, ts - 60) + bm.start(1)
                    side = next((x for x in d.factions if x[0] == fs), None)
                    other = next((a for a in reversed(recent_actors) if side and side[2] not in a[1]), None)
                    if side and other:
                        prev = sent_out[-1]
                        items = [Item(Mention(prev.start, prev.end, prev.place, anaphor=True), [prev.place])]
                        besieged_side = other
            if not items and action == "withdraw":
                items = _subject_location(d, sent, ts, memory, last_places)
            if not items and action == "withdraw" and sent_out and WHEN_BEFORE.search(d.masked, max(sent.start, ts - 50), ts):
                # "troops secured al-Qaryatayn after ISIS fighters withdrew toward the desert": from that place.
                prev = sent_out[-1]
                items = [Item(Mention(prev.start, prev.end, prev.place, anaphor=True), [prev.place])]
            parts = PARTS_OBJECT.match(d.masked, te) if not items and last_places else None
            if parts and action in ("capture", "withdraw", "hold", "attack"):
                # "The militants retook several neighbourhoods": parts of the city just named.
                p0 = last_places[0]
                span = (parts.start() + len(parts.group(0)) - len(parts.group(0).lstrip()), parts.end())
                items = [Item(Mention(span[0], span[1], p0.name, anaphor=True), [p0.name], partial=True)]
            if not items:
                continue
            within = WITHIN.match(m.group(0))
            if within:
                for it in items:
                    it.relation = it.relation or "near"
                    it.distance_km = it.distance_km or float(within.group(1))
            actor = _find_actor(d, sent, ts, te, items[-1].mention.end if not subject_is_place else te,
                                subject_is_place, action, carry)
            if actor is None and not subject_is_place and NON_AGENT.search(d.masked[_clause_start(d, sent, ts) : ts]):
                if action in ("advance", "capture", "withdraw", "hold", "siege"):
                    continue  # "Aid convoys reached X": no force moved
                actor = ("", ["unknown"])
            if actor is None and (not subject_is_place or action in ("capture", "contest") or sent_actor is not None):
                actor = sent_actor or carry
            if besieged_side is not None:
                actor = besieged_side
            if implicit_subject and not _named_in_clause(d, sent, ts, te):
                actor = ("", ["unknown"])
            if actor is None and action in ("advance", "capture", "withdraw") and not subject_is_place:
                continue  # "Aid convoys reached Douma": movement by no force the report names
            actor_text, fids = actor if actor else ("", ["unknown"])
            modality, attempt = _modality(d, sent, ts, te)
            if ONGOING_BEFORE.search(d.masked, max(sent.start, ts - 30), ts) and NOUN_TRIGGER.search(m.group(0).lower()):
                # "will not take part in the ongoing advance on X": the advance itself is a fact.
                modality, attempt = "asserted", False
                f = d.factions
                near = f[bisect.bisect_left(f, (sent.start, -1, "")) : bisect.bisect_left(f, (ts, -1, ""))]
                if near:
                    actor_text, fids = _actor_at(d, f.index(near[-1]), sent)
                ongoing = True
            else:
                ongoing = False
            if declared and modality == "asserted":
                modality = "claimed"
            act = action
            if attempt and action == "capture":
                act = "advance"
            elif action == "capture" and m.group(0).lower().endswith("ing") and (
                    re.search(r"\b(?:is|are|was|were|been|be|keeps?|kept)\s+(?:\w+ly\s+|still\s+|now\s+)?$",
                              d.masked[max(sent.start, ts - 30) : ts], re.IGNORECASE) or title):
                act = "advance"  # "are clearing", a headline's "Clearing": ongoing, not done
            if act == "advance" and not within and vacated and all(
                    vacated.get(n) not in (None, *fids) for it in items for n in it.names if it.relation in ("", "near")):
                act = "capture"  # "rebels left X ..., and government troops moved into both towns": taken over
            date, precision = _date_for(d, sent, ts, te, act) if not ongoing else (doc.date, "doc")
            if precision == "doc" and sent_date is not None:
                date, precision = sent_date  # "advanced on Thursday, seizing A and B": the same day
            elif precision == "doc" and para_date is not None and PAST_TRIGGER.search(m.group(0)) \
                    and not NEW_THREAD.match(d.masked, sent.start):
                date, precision = para_date  # "... on Friday. The militants retook ...": the same day
            elif precision == "day":
                para_date = (date, precision)
            if precision != "doc":
                sent_date = (date, precision)
            for faction in fids:
                for it in items:
                    for name in it.names:
                        relation, target = it.relation, it.target
                        if act == "advance" and attempt and not relation:
                            relation, target = "near", name
                        conf = CONFIDENCE[modality] * (0.8 if it.partial else 1.0) * (0.85 if it.mention.anaphor else 1.0)
                        if faction == "unknown":
                            conf *= 0.8
                        sent_out.append(Statement(
                            doc=doc.name, doc_date=doc.date, date=date, date_precision=precision, actor=actor_text,
                            faction=faction, action=act, place=name, modality=modality, confidence=round(conf, 3),
                            sentence=doc.text[sent.start:sent.end], start=it.mention.start, end=it.mention.end,
                            from_place=it.from_place, distance_km=it.distance_km, bearing_deg=it.bearing_deg,
                            target=target, relation=relation, context=_context(d, it.mention.start, it.refs),
                        ))
            if act == "withdraw" and modality in ("asserted", "claimed"):
                for it in items:
                    for n in it.names:
                        vacated[n] = fids[0]
            if actor is not None:
                recent_actors.append(actor)
                carry = actor
                if actor[1] != ["unknown"]:
                    sent_actor = actor
            last_places = [it.mention if not it.mention.anaphor else Mention(it.mention.start, it.mention.end, n)
                           for it in items for n in it.names]
            for it in items:
                if not it.mention.anaphor:
                    it.mention.in_event = True
                    for j in range(len(memory) - 1, max(-1, len(memory) - 41), -1):
                        if memory[j] is it.mention:
                            del memory[j]
                            break
                    memory.append(it.mention)
        pm = _remember(d, pm, sent.end, memory)
        sent_out = _merge_advances(sent_out)
        sent_out += _held_statements(d, doc, sent, memory)
        if carry is None or not triggers:
            # A sentence without statements may still name who the next one is about.
            f = d.factions
            i = bisect.bisect_left(f, (sent.start, -1, ""))
            while i < len(f) and f[i][1] <= sent.end:
                if _subject_role(d, f[i][0], f[i][1], sent.start):
                    carry = _actor_at(d, i, sent)
                    break
                i += 1
        out += sent_out
    return _dedupe(out, doc.text)


def _subject_location(d: _Doc, sent: Sentence, ts: int, memory: list[Mention], last_places: list[Mention]) -> list[Item]:
    """ "opposition groups in the area were withdrawing": the place where the subject stands."""
    lo = bisect.bisect_left(d.place_starts, sent.start)
    hi = bisect.bisect_left(d.place_starts, ts)
    for c in reversed(d.places[lo:hi]):
        gap = d.masked[c.end:ts]
        if lx.MASK in gap or len(WORD_TOKEN.findall(gap)) > 8 or lx.BOUNDARY.search(gap):
            return []
        if re.search(lx.MASK + r"+(?:\s+[\w-]+)?\s+(?:in|at|inside)\s+$", d.masked[max(sent.start, c.start - 40) : c.start]):
            names = [c.name] if not c.anaphor else [r.name for r in _resolve_anaphor(c, memory, last_places)]
            return [Item(c, names)] if names else []
        return []
    return []


def _merge_advances(statements: list[Statement]) -> list[Statement]:
    """ "Pushing from X, forces advanced 8km north-west towards Y": one advance from X towards Y."""
    origin = next((s for s in statements if s.action == "advance" and s.from_place and s.from_place == s.place
                   and s.relation == "" and s.distance_km is None and not s.target), None)
    if origin is None:
        return statements
    toward = next((s for s in statements if s is not origin and s.action == "advance" and s.faction == origin.faction
                   and not s.from_place and s.relation == "near" and s.target == s.place), None)
    if toward is None:
        return statements
    if toward.distance_km is not None and toward.bearing_deg is not None:
        merged = dc_replace(origin, relation="offset", distance_km=toward.distance_km, bearing_deg=toward.bearing_deg,
                            target=toward.place)
        if origin.date_precision == "doc":
            merged = dc_replace(merged, date=toward.date, date_precision=toward.date_precision)
    else:
        merged = dc_replace(toward, from_place=origin.place)
    return [merged if s is origin else s for s in statements if s is not toward]


def _named_in_clause(d: _Doc, sent: Sentence, ts: int, te: int) -> bool:
    """Whether a faction is named in the clause of the trigger at masked[ts:te]."""
    cstart = _clause_start(d, sent, ts)
    bi = bisect.bisect_right(d.boundaries, te)
    cend = d.boundaries[bi] if bi < len(d.boundaries) and d.boundaries[bi] < sent.end else sent.end
    return lx.MASK in d.masked[cstart:cend]


def _remember(d: _Doc, pm: int, upto: int, memory: list[Mention]) -> int:
    """Add the places mentioned before ``upto`` to the anaphora memory; returns the new index."""
    while pm < len(d.places) and d.places[pm].end <= upto:
        p = d.places[pm]
        if not p.anaphor and p.name.lower() not in COUNTRIES and (
                p.kind or re.search(r"\b(?:in|of|near|around|from|to|towards|at|into)\s+(?:the\s+)?$",
                                    d.masked[max(0, p.start - 12) : p.start], re.IGNORECASE)):
            memory.append(p)
        pm += 1
    return pm


def _title_case(sentence: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][\w'-]*", sentence) if w.lower() not in TITLE_SMALL]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) / len(words) >= 0.8


def _subject_place(d: _Doc, sent: Sentence, ts: int, memory: list[Mention], last_places: list[Mention],
                   declared: bool = False) -> list[Item]:
    """The place(s) a passive or predicative trigger is about: the nearest mention before it,
    with the places coordinated with it ("al-Shafah and Baghuz Fawqani remain under ...")."""
    cstart = sent.start if declared else _clause_start(d, sent, ts)
    lo = bisect.bisect_left(d.place_starts, cstart)
    hi = bisect.bisect_left(d.place_starts, ts)
    before = d.places[lo:hi]
    for k in range(len(before) - 1, -1, -1):
        c = before[k]
        gap = d.masked[c.end:ts]
        # "Eastern Ghouta, besieged by government forces since 2013, was hit": skip the parenthetical.
        core = re.sub(r"^\s*,[^,;]*,", " ", gap)
        if declared:
            core = re.sub(r"^\s*", "", core) if re.fullmatch(r"\s*", core) else core
        if len(WORD_TOKEN.findall(core)) > 8 or lx.MASK in core or lx.BOUNDARY.search(core.strip()):
            return []
        group = [c]
        j = k - 1
        while j >= 0 and re.fullmatch(r"\s*(?:,|,?\s*and|,?\s*or)\s*", d.masked[before[j].end : group[0].start]):
            group.insert(0, before[j])
            j -= 1
        items = []
        for g in group:
            names = [g.name] if not g.anaphor else [r.name for r in _resolve_anaphor(g, memory, last_places)]
            if not names:
                continue
            item = Item(g, names)
            pre = d.masked[max(cstart, group[0].start - 40) : group[0].start]
            if lx.PARTIAL_TAIL.search(pre) or re.search(r"\b(?:other\s+)?part\s+of\s+(?:the\s+)?$|\bpartially\b",
                                                        pre + gap, re.IGNORECASE):
                item.partial = True
            if m := lx.PART_TAIL.search(pre):
                item.relation = "part:" + _dir_of(m.group("dir") or m.group("dir2"))
            items.append(item)
        return items
    return []


def _relative_object(d: _Doc, sent: Sentence, ts: int, te: int, memory: list[Mention],
                     last_places: list[Mention]) -> list[Item]:
    """ "Menagh airbase, which it seized", "the army had captured it": the object stands elsewhere."""
    if re.match(r"\s+(?:it|them)\b", d.masked[te : te + 6]) and last_places:
        return [Item(Mention(te + 1, te + 3, "it", anaphor=True), [p.name for p in last_places])]
    lo = bisect.bisect_left(d.place_starts, sent.start)
    hi = bisect.bisect_left(d.place_starts, ts)
    for c in reversed(d.places[lo:hi]):
        if c.anaphor:
            continue
        if re.fullmatch(r"\s*,?\s*(?:which|that)\s+(?:it|they|he|she|the\s+group|" + lx.MASK + r"+|the\s+\w+)?\s*"
                        r"(?:had\s+|has\s+|have\s+)?(?:\w+ly\s+|already\s+|just\s+)?", d.masked[c.end:ts], re.IGNORECASE):
            return [Item(c, [c.name])]
        break
    return []


def _held_statements(d: _Doc, doc: Document, sent: Sentence, memory: list[Mention]) -> list[Statement]:
    """'the ISIS-held town of X', 'SDF-held Shaddadi', 'X, the IS-held village', 'X of opposition control'."""
    out: list[Statement] = []
    norm = _normalise(doc.text[sent.start:sent.end])
    lo = bisect.bisect_left(d.place_starts, sent.start)
    hi = bisect.bisect_left(d.place_starts, sent.end)
    places = d.places[lo:hi]

    def emit(who_text: str, fid: str, how: str, mention: Mention, names: list[str], neg: bool = False) -> None:
        action = "siege" if how in ("besieged", "encircled") else "hold"
        modality = "negated" if neg else "asserted"
        date, precision = _date_for(d, sent, mention.start, mention.end, action)
        if precision != "day":
            date, precision = doc.date, "doc"  # "SDF-held X" states who holds X when the report is written
        for name in names:
            out.append(Statement(
                doc=doc.name, doc_date=doc.date, date=date, date_precision=precision, actor=who_text, faction=fid,
                action=action, place=name, modality=modality,
                confidence=round(CONFIDENCE[modality] * (0.85 if mention.anaphor else 0.95), 3),
                sentence=doc.text[sent.start:sent.end], start=mention.start, end=mention.end,
                context=_context(d, mention.start, []),
            ))

    for m in lx.HELD.finditer(norm):
        who = m.group("who")
        fid = _resolve_word(who, d, sent.start + m.start())
        if not fid:
            continue
        ms, me = sent.start + m.start(), sent.start + m.end()
        target = None
        for c in places:
            if c.anaphor and c.start <= ms and me <= c.end:
                target = c
                break
            if c.start >= me:
                gap = d.masked[me:c.start]
                if len(WORD_TOKEN.findall(gap)) <= 4 and all(_word_ok(t) for t in WORD_TOKEN.findall(gap)) \
                        and not lx.BOUNDARY.search(gap):
                    target = c
                break
        if target is None:
            before = [c for c in places if c.end <= ms and not c.anaphor]
            if before and re.fullmatch(r",\s+(?:the|a|an)\s+(?:[\w-]+\s+){0,2}", d.masked[before[-1].end:ms], re.IGNORECASE):
                target = before[-1]
        if target is None:
            continue
        group = [target]
        if not target.anaphor:
            # "rebel-held Morek, Latamneh and Kafr Zita": every place of the list.
            rest = [c for c in places if c.start >= target.end and not c.anaphor]
            for c in rest:
                if re.fullmatch(r"\s*(?:,|,?\s*and|,?\s*or)\s*", d.masked[group[-1].end : c.start]):
                    group.append(c)
                else:
                    break
        for g in group:
            names = [g.name] if not g.anaphor else [r.name for r in _resolve_anaphor(g, memory, [])]
            if names:
                emit(who, fid, m.group("how"), g, names)
    for c in places:
        # "leaving the area to the Syrian army": the receiver holds it.
        if LEFT_TO.search(d.masked[max(sent.start, c.start - 25) : c.start]):
            tm = TO_HOLDER.match(d.masked, c.end)
            if tm:
                fid = _resolve_word(tm.group(1), d, tm.start(1))
                names = [c.name] if not c.anaphor else [r.name for r in _resolve_anaphor(c, memory, [])]
                if fid and names:
                    emit(doc.text[tm.start(1):tm.end(1)], fid, "held", c, names)
    for c in places:
        if c.anaphor:
            continue
        after = d.masked[c.end : min(sent.end, c.end + 60)]
        oc = lx.OF_CONTROL.match(after.lstrip('"\''))
        if oc:
            off = c.end + (len(after) - len(after.lstrip('"\''))) + oc.start("who")
            fid = _resolve_word(oc.group("who"), d, off)
            if fid:
                emit(doc.text[off:off + len(oc.group("who"))], fid, "held", c, [c.name])
            continue
        uc = lx.UNDER_CONTROL_AFTER.match(after)
        if uc:
            off = c.end + uc.start("who")
            fid = _resolve_word(uc.group("who"), d, off)
            if fid:
                emit(doc.text[off:off + len(uc.group("who"))], fid, "held", c, [c.name], neg=bool(uc.group("neg")))
    return out


def _resolve_word(word: str, d: _Doc, pos: int) -> str | None:
    if lx.MASK in word:
        for s, e, fid in d.factions:
            if s <= pos < e:
                return fid
        return None
    if word in WORDS_OF_FACTIONS:
        return WORDS_OF_FACTIONS[word]
    return d.registry.resolve(word.replace("/", " "))


def _dedupe(statements: list[Statement], text: str) -> list[Statement]:
    """Drop repeats; keep ``event_id`` unique: two statements on one span (an anaphor that two
    factions' statements share) get the later one's span widened to its sentence."""
    seen: set[tuple] = set()
    spans: set[tuple] = set()
    out = []
    for s in statements:
        key = (s.start, s.end, s.place, s.action, s.faction)
        if key in seen:
            continue
        seen.add(key)
        span = (s.start, s.end, s.place, s.action)
        if span in spans:
            sent_start = text.rfind(s.sentence, 0, s.start + len(s.sentence))
            if sent_start >= 0:
                for start, end in ((sent_start, s.end), (sent_start, sent_start + len(s.sentence))):
                    if (start, end, s.place, s.action) not in spans:
                        s = dc_replace(s, start=start, end=end)
                        break
        spans.add((s.start, s.end, s.place, s.action))
        out.append(s)
    return out
