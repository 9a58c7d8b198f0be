"""Bytes -> text for each report format: plain text/Markdown, HTML (beautifulsoup4), PDF (pypdf)."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")

SUFFIXES = (".txt", ".md", ".markdown", ".text", ".html", ".htm", ".pdf")


def decode(raw: bytes) -> str:
    """UTF-8 (a BOM is dropped), else cp1252, else latin-1 (never fails)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def looks_binary(raw: bytes) -> bool:
    """NUL bytes or many control characters in the first 4 KB: not a text report."""
    head = raw[:4096]
    if b"\x00" in head:
        return True
    ctrl = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return bool(head) and ctrl / len(head) > 0.05


def html_to_text(markup: str) -> str:
    """Visible text of an HTML page, one block per line; scripts, navigation and forms dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    published = _published(soup)
    for tag in soup(["script", "style", "noscript", "nav", "footer", "form", "aside", "iframe", "svg",
                     "button", "header"]):
        tag.decompose()
    # Comment sections of blog engines (WordPress, Disqus) by id/class.
    for tag in soup.find_all(id=True):
        if any(w in str(tag.get("id", "")).lower() for w in ("comments", "respond", "disqus")):
            tag.decompose()
    for tag in soup.find_all(class_=True):
        if tag.decomposed:
            continue
        classes = " ".join(tag.get("class") or []).lower()
        if any(w in classes for w in ("comment", "respond", "share", "related-posts", "sidebar")):
            tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    blocks = [" ".join(t.split()) for t in root.get_text("\n").split("\n")]
    body = "\n\n".join(b for b in blocks if b)
    h1 = root.find("h1") if hasattr(root, "find") else None
    if title and not h1 and title not in body[:500]:
        body = title + "\n\n" + body
    if published:
        body = f"Published {published}\n\n" + body  # the page's own date, for ingest's date finder
    return body


def _published(soup) -> str:
    """The publication date a page declares in its metadata (YYYY-MM-DD), or ""."""
    for attrs in ({"property": "article:published_time"}, {"name": "date"}, {"itemprop": "datePublished"},
                  {"name": "pubdate"}, {"property": "og:published_time"}):
        tag = soup.find("meta", attrs=attrs)
        if tag and re.match(r"\d{4}-\d\d-\d\d", str(tag.get("content", ""))):
            return str(tag["content"])[:10]
    tag = soup.find("time", attrs={"datetime": True})
    if tag and re.match(r"\d{4}-\d\d-\d\d", str(tag.get("datetime", ""))):
        return str(tag["datetime"])[:10]
    return ""


def pdf_to_text(raw: bytes, path: Path) -> str | None:
    from pypdf import PdfReader

    # pypdf reports every repair it makes on a damaged file through logging (hundreds of lines,
    # some of which fail to format): one warning of ours says the file was skipped.
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # a damaged PDF raises nearly anything: TypeError, KeyError, NotImplementedError...
        log.warning("%s: unreadable PDF (%s: %s); skipped", path, type(exc).__name__, str(exc)[:200])
        return None
    finally:
        pypdf_log.setLevel(level)
    return "\n\n".join(unwrap(p) for p in pages)


def unwrap(text: str) -> str:
    """Join the lines a PDF wrapped inside sentences: "gov-\nernment", "took the\nvillage"."""
    text = re.sub(r"(\w)-\n(?=[a-z])", r"\1", text)
    return re.sub(r"(?<=[^.!?:\n])\n(?=[a-z(,;])", " ", text)


def read_text(path: Path, raw: bytes) -> str | None:
    """The report's text, or None (with a warning) for empty, binary or unreadable files."""
    if not raw.strip():
        log.warning("%s: empty file; skipped", path)
        return None
    suffix = path.suffix.lower()
    if suffix == ".pdf" or raw.startswith(b"%PDF-"):
        return pdf_to_text(raw, path)
    if looks_binary(raw):
        log.warning("%s: binary file, not a text report; skipped", path)
        return None
    # Control characters carry nothing in a report and break what comes after (a NUL ends a
    # string in GDAL, so events.geojson and control.gpkg would cut the sentence there); a
    # vertical tab is Word's line break.
    text = CONTROL.sub("", decode(raw).replace("\x0b", "\n"))
    if suffix in (".html", ".htm") or text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        return html_to_text(text)
    return text
