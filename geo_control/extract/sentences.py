"""Sentences and paragraphs with character offsets into the document text."""

from __future__ import annotations

import re
from dataclasses import dataclass

ABBREVIATIONS = frozenset(
    "mr mrs ms dr gen lt col maj capt sgt st no nos vs etc approx est fig jan feb mar apr jun jul aug sep sept oct nov "
    "dec u.s u.n u.k e.g i.e km mt mts al brig adm gov rep sen jr sr inc ltd co corp dept".split()
)
PARAGRAPH = re.compile(r"\n[ \t]*\n")
LINE = re.compile(r"\n")
END = re.compile(r"[.!?]+[\"'”’)\]]*\s+(?=[\"“'(\[]?(?:[A-Z0-9§#*]|(?:al|el|ad|as|ash|an|ar|az|at)-))")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    paragraph: int


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` (a line break always ends one), with their paragraph index.

    >>> [text[s.start:s.end] for text in ["The SAA took Sukhnah. Nov. 2: ISIS fled.\\n\\nNext."]
    ...  for s in split_sentences(text)]
    ['The SAA took Sukhnah.', 'Nov. 2: ISIS fled.', 'Next.']
    """
    out: list[Sentence] = []
    para = 0
    pos = 0
    n = len(text)
    breaks = [(m.start(), m.end(), True) for m in PARAGRAPH.finditer(text)]
    # Single line breaks that are not part of a paragraph break.
    in_para = {i for s, e, _ in breaks for i in range(s, e)}
    breaks += [(m.start(), m.end(), False) for m in LINE.finditer(text) if m.start() not in in_para]
    breaks.sort()
    for b_start, b_end, is_para in [*breaks, (n, n, True)]:
        _split_line(text, pos, b_start, para, out)
        if is_para:
            para += 1
        pos = b_end
    return out


def _split_line(text: str, start: int, end: int, para: int, out: list[Sentence]) -> None:
    line = text[start:end]
    pos = 0
    for m in END.finditer(line):
        word = re.search(r"([\w.]+)[.!?]+[\"'”’)\]]*\s+$", line[pos : m.end()])
        if word and m.group().startswith(".") and word.group(1).lower().rstrip(".") in ABBREVIATIONS:
            continue
        if word and len(word.group(1)) == 1 and word.group(1).isupper():
            continue  # an initial: "George W. Bush"
        _add(text, start + pos, start + m.start() + len(m.group().rstrip()), para, out)
        pos = m.end()
    _add(text, start + pos, end, para, out)


def _add(text: str, s: int, e: int, para: int, out: list[Sentence]) -> None:
    while s < e and text[s] in " \t\r":
        s += 1
    while e > s and text[e - 1] in " \t\r":
        e -= 1
    if e > s:
        out.append(Sentence(s, e, para))
