"""Cleaning report text: PDF debris, reader comments and web boilerplate never reach extraction.

Everything here is generic: debris is recognised by the shape of its tokens (PDF operators,
bare decimals, bracketed fragments), a comment section by the point after which lines look
like commenter names followed by short informal paragraphs (first and second person,
exclamations, questions, links), boilerplate by the phrases blog engines print.
"""

from __future__ import annotations

import re

# Lines that end an article on blog engines and news sites: everything after is readers' or site's.
END_MARKERS = re.compile(
    r"^\s*(?:#+\s*)?\**\s*(?:leave\s+a\s+(?:reply|comment)|\d+\s+(?:comments?|responses?|replies)|comments?"
    r"|reader\s+comments|show\s+comments|join\s+the\s+discussion|add\s+(?:a\s+)?comment|post\s+a\s+comment"
    r"|discussion|responses|what\s+do\s+you\s+think\??|related\s+(?:posts|articles|stories)"
    r"|you\s+may\s+also\s+like|recommended\s+for\s+you|most\s+read|read\s+more)\s*:?\**\s*$",
    re.IGNORECASE,
)
# Boilerplate lines dropped wherever they stand.
BOILERPLATE = re.compile(
    r"^\s*(?:your\s+email\s+address\s+will\s+not\s+be\s+published.*|required\s+fields\s+are\s+marked.*"
    r"|share\s+this(?:\s+article)?:?|like\s+this:?|subscribe.*newsletter.*|follow\s+us\s+on.*|click\s+here\s+to.*"
    r"|print\s+this\s+(?:page|article)|save\s+my\s+name.*|notify\s+me\s+of.*|sign\s+up\s+for.*"
    r"|(?:facebook|twitter|whatsapp|telegram|email|print|pinterest|linkedin|reddit)(?:\s+(?:facebook|twitter|"
    r"whatsapp|telegram|email|print|pinterest|linkedin|reddit))*"
    r"|advertisement|all\s+rights\s+reserved.*|©.*|copyright\s+©?.*|tags?:.*|posted\s+in\s+.*|filed\s+under.*)\s*$",
    re.IGNORECASE,
)

PDF_OPERATOR = re.compile(r"^(?:Tf|Tj|TJ|Td|TD|Tm|T\*|BT|ET|Tc|Tw|Tz|TL|Ts|Tr|re|cm|rg|RG|gs|Do|BDC|EMC|q|Q|W|n|f\*?)$")
DECIMAL = re.compile(r"^[-+]?\d*\.\d+[)\]]*$")
BRACKETED = re.compile(r"[()\[\]{}<>]")
ORDINAL_OR_MODEL = re.compile(r"^(?:\d+(?:st|nd|rd|th|km|m|s)|[A-Z][a-z]?-?\d+[A-Za-z\d-]*|\d{1,4}(?:[.,]\d+)?%?[,.;:]?)$")


def _junk(token: str) -> bool:
    """A token that PDF text extraction leaves behind, not a word of the report."""
    if PDF_OPERATOR.match(token) or DECIMAL.match(token):
        return True
    if BRACKETED.search(token):
        inner = re.sub(r"[()\[\]{}<>'\"’.,;:]", "", token)
        # "(SDF)", "(PMU)", "(2017)" are prose; "(rm)87'", "[(t)", "()" are not.
        return not (re.fullmatch(r"[A-Z][A-Za-z]{1,}|\d{4}|[A-Za-z]{4,}", inner) and token.count("(") <= 1
                    and re.fullmatch(r"\(?[\w'’.-]+\)?[,.;:]?", token))
    if re.search(r"[A-Za-z]", token) and re.search(r"\d", token) and not ORDINAL_OR_MODEL.match(token):
        return True
    return False


def strip_debris(line: str) -> str:
    """The line without a trailing run of PDF debris; "" when the whole line is debris."""
    tokens = list(re.finditer(r"\S+", line))
    if len(tokens) < 3:
        return line
    flags = [_junk(t.group()) for t in tokens]
    junk_after = 0
    cut = None
    for i in range(len(tokens) - 1, -1, -1):
        junk_after += flags[i]
        n = len(tokens) - i
        if flags[i] and junk_after >= 4 and junk_after / n >= 0.6:
            cut = i
    if cut is None:
        return line
    if cut == 0:
        return ""
    return line[: tokens[cut].start()].rstrip()


NAME_LINE = re.compile(r"^(?:[A-Z][\w'’.-]*|[a-z]+\d+|@\w+|[A-Z]{2,})(?:\s+(?:[A-Z][\w'’.-]*|[IVX]+|van|de|von|al|el)){0,3}$")
INFORMAL = re.compile(
    r"\b(?:I|I'm|I’m|(?i:me|my|you|your|you're|lol|thanks|thank you|imho|btw|regards|guys|bravo|wow|sheeple))\b"
    r"|!{1,}|\?|https?://",
)
WORD = re.compile(r"[A-Za-z][\w'’-]*")


def _informality(lines: list[str]) -> float:
    text = "\n".join(lines)
    words = len(WORD.findall(text))
    return 100.0 * len(INFORMAL.findall(text)) / max(words, 1)


def _comment_start(lines: list[str]) -> int | None:
    """Index of the line where a readers' comment section begins, or None.

    A comment section is a stretch at the end of the text in which at least two short lines
    look like commenter names, the prose is informal (first/second person, exclamations,
    questions, links) and the text before it is not.
    """
    content = [i for i, line in enumerate(lines) if line.strip()]
    if len(content) < 6:
        return None
    names = [i for i in content if NAME_LINE.match(lines[i].strip()) and len(lines[i].strip()) <= 40
             and not lines[i].strip().endswith((".", ":"))]
    for i in names:
        if i < content[len(content) // 5]:
            continue  # a name line in the first fifth is a byline or a heading
        if sum(1 for j in names if j >= i) < 2 or _informality(lines[i:]) < 1.5:
            continue
        # The first comments may come before the first name line that matched (a handle such as
        # "You can call me Al", a reply without a name): walk back over short informal paragraphs.
        start = i
        k = content.index(i) - 1
        while k >= 0:
            line = lines[content[k]].strip()
            short_name = len(line) <= 40 and not line.endswith((".", ":"))
            if (INFORMAL.search(line) and len(WORD.findall(line)) <= 80) or (short_name and INFORMAL.search(line)):
                start = content[k]
                k -= 1
            else:
                break
        if _informality(lines[:start]) < 0.6:
            return start
    return None


def clean_text(text: str) -> str:
    """Report text without PDF debris, reader comments and boilerplate; line structure kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\ufeff", "")
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if END_MARKERS.match(line) and i > 0:
            lines = lines[:i]
            break
    start = _comment_start(lines)
    if start is not None:
        lines = lines[:start]
    kept = []
    for line in lines:
        if BOILERPLATE.match(line):
            continue
        kept.append(strip_debris(line))
    out = "\n".join(kept)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip() + "\n"
