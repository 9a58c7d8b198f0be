"""Name normalisation that survives transliteration.

Reports write one Arabic name many ways: Deir ez-Zor, Deir Ezzor, Dayr az Zawr, Dair al-Zour.
Two keys are computed for every name:

- ``normalise``: lower case ASCII without diacritics, apostrophes or punctuation, articles
  dropped (al-, el-, ad-, ash-, ...), feature words kept. Used to rank candidates.
- ``skeleton``: the consonants of ``normalise`` after folding spellings that vary (q/k, ou/u,
  ee/i, w/y as vowels, doubled letters, final ta marbuta ``-ah``/``-eh``). Used to find
  candidates by exact lookup.

Arabic script is kept as its own key (``arabic_key``): unidecode turns it into consonant soup.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: Arabic definite article in its assimilated spellings; dropped wherever it stands alone.
ARTICLES = frozenset(
    "al el il ul ad ed ar er as es ash esh at et az ez an en ath adh al- l".split()
)

#: English adjectives that humanitarian lists put before a name, and the Arabic word that
#: GeoNames-style names put after it.
ENGLISH_ADJECTIVES = {
    "big": "kabir", "great": "kabir", "large": "kabir", "greater": "kabir",
    "small": "saghir", "little": "saghir", "littler": "saghir", "lesser": "saghir",
    "upper": "fawqani", "lower": "tahtani", "new": "jadid", "old": "qadim",
    "northern": "shamali", "southern": "janubi", "eastern": "sharqi", "western": "gharbi",
    "north": "shamali", "south": "janubi", "east": "sharqi", "west": "gharbi",
}

#: Feature words that say what kind of place follows or precedes a name. Maps a phrase to
#: the feature family it hints at. Longest phrases first when matching.
FEATURE_WORDS: dict[str, str] = {
    "oil and gas field": "oilfield",
    "oil field": "oilfield",
    "oilfield": "oilfield",
    "oil fields": "oilfield",
    "gas field": "oilfield",
    "gasfield": "oilfield",
    "gas plant": "oilfield",
    "oil wells": "oilfield",
    "pumping station": "station",
    "pump station": "station",
    "station": "station",
    "military airbase": "airbase",
    "military air base": "airbase",
    "military airport": "airbase",
    "airbase": "airbase",
    "air base": "airbase",
    "airfield": "airbase",
    "air field": "airbase",
    "airport": "airbase",
    "border crossing": "crossing",
    "crossing point": "crossing",
    "crossing": "crossing",
    "border post": "crossing",
    "idp camp": "camp",
    "refugee camp": "camp",
    "displacement camp": "camp",
    "camp": "camp",
    "dam": "dam",
    "bridge": "bridge",
    "neighbourhood": "district",
    "neighborhood": "district",
    "neighbourhoods": "district",
    "neighborhoods": "district",
    "quarter": "district",
    "district": "district",
    "suburb": "district",
    "industrial area": "industrial",
    "industrial zone": "industrial",
    "industrial city": "industrial",
    "village": "locality",
    "villages": "locality",
    "town": "locality",
    "towns": "locality",
    "city": "locality",
    "countryside": "countryside",
    "governorate": "region",
    "province": "region",
    "pocket": "locality",
    "area": "",
    "region": "",
    "base": "",
    "military base": "",
    "hill": "",
    "mountain": "",
}

#: Leading phrases that carry no name ("the village of X", "the town of X").
_LEADING = re.compile(
    r"^(?:the\s+)?(?:(?:villages?|towns?|city|cities|hamlet|area|region|outskirts|vicinity|"
    r"suburbs?|neighbou?rhoods?|district|countryside|outskirts)\s+of\s+)+",
)
_THE = re.compile(r"^the\s+")
_APOS = re.compile(r"[\u0027\u0060\u00b4\u2018\u2019\u02bb\u02bc\u02be\u02bf\u02b9\u02c8\u0022\u201c\u201d]")
_NONWORD = re.compile(r"[^a-z0-9\s]+")
_SPACE = re.compile(r"\s+")

_ARABIC = re.compile(r"[\u0600-\u06ff]")
_ARABIC_DIACRITICS = re.compile(r"[\u064b-\u065f\u0670\u0640]")
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي"})

_FEATURE_PATTERN = re.compile(
    r"(?:^|\s)(" + "|".join(sorted((re.escape(k) for k in FEATURE_WORDS), key=len, reverse=True)) + r")(?=\s|$)"
)


def has_arabic(text: str) -> bool:
    return bool(_ARABIC.search(text))


@lru_cache(maxsize=200_000)
def ascii_fold(text: str) -> str:
    """Lower-case ASCII: diacritics and apostrophes (ʿ ` ' ’) removed, punctuation to spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("ı", "i").replace("ş", "s").replace("ğ", "g").replace("ç", "c")
    text = text.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("đ", "d")
    text = _APOS.sub("", text.lower())
    text = text.replace("-", " ").replace("_", " ")
    text = _NONWORD.sub(" ", text.encode("ascii", "ignore").decode())
    return _SPACE.sub(" ", text).strip()


@lru_cache(maxsize=200_000)
def normalise(text: str, reorder: bool = True) -> str:
    """ASCII, lower case, articles and leading 'the village of' dropped.

    >>> normalise("the village of al-Khamisiya")
    'khamisiya'
    >>> normalise("Dayr az Zawr")
    'dayr zawr'
    """
    text = ascii_fold(text)
    text = _LEADING.sub("", text)
    text = _THE.sub("", text)
    tokens = [t for t in text.split() if t not in ARTICLES]
    # "Big Fikha" (HNAP) is "Fikha al-Kabira" (GeoNames): English adjectives in front become the
    # Arabic ones after the name
    if reorder and len(tokens) > 1 and tokens[0] in ENGLISH_ADJECTIVES:
        tokens = tokens[1:] + [ENGLISH_ADJECTIVES[tokens[0]]]
    return " ".join(tokens)


@lru_cache(maxsize=200_000)
def split_feature(text: str) -> tuple[str, str]:
    """Split a normalised name into (name without feature words, feature family hint).

    >>> split_feature("south kashmah oil field")
    ('south kashmah', 'oilfield')
    >>> split_feature("hmeimem military airbase")
    ('hmeimem', 'airbase')
    """
    hint = ""
    stripped = text
    for match in list(_FEATURE_PATTERN.finditer(text))[::-1]:
        word = match.group(1)
        if not hint and FEATURE_WORDS[word]:
            hint = FEATURE_WORDS[word]
        stripped = stripped[: match.start(1)] + stripped[match.end(1):]
    stripped = _SPACE.sub(" ", stripped).strip()
    if not stripped:
        return text, hint
    return stripped, hint


# Spelling folds applied before vowels are dropped, in order. Digraphs first.
_FOLDS = (
    ("ph", "f"),
    ("dj", "j"),
    ("tch", "sh"),
    ("ch", "sh"),
    # dh and th both write dhal (Dhiban/Thiban); kh is also written k (Sukhnah/Sukna)
    ("th", "d"),
    ("dh", "d"),
    ("gh", "g"),
    ("kh", "k"),
    ("sh", "c"),  # one symbol so the h is not read as a ta marbuta
    ("q", "k"),
    ("ck", "k"),
    ("p", "b"),
    ("v", "f"),
    ("w", "u"),
    ("y", "i"),
)
_VOWELS = re.compile(r"[aeiou]")
_FINAL_H = re.compile(r"(?<=[aeiou])h\b")
_DOUBLE = re.compile(r"(.)\1+")


@lru_cache(maxsize=400_000)
def skeleton(text: str) -> str:
    """The consonant skeleton of a name: equal for spellings of the same Arabic name.

    >>> skeleton("Deir Ezzor") == skeleton("Dayr az Zawr") == skeleton("Dair al-Zour")
    True
    >>> skeleton("Al Mayadin") == skeleton("al-Mayadeen")
    True
    """
    text = normalise(text)
    tokens = []
    for token in text.split():
        if token in ARTICLES:
            continue
        token = _FINAL_H.sub("", token)
        for a, b in _FOLDS:
            token = token.replace(a, b)
        tokens.append(token)
    joined = "".join(tokens)
    consonants = _VOWELS.sub("", joined)
    consonants = _DOUBLE.sub(r"\1", consonants)
    if not consonants:
        # an all-vowel name (rare): keep the folded vowels so it still has a key
        return _DOUBLE.sub(r"\1", joined)
    return consonants


_VOWEL_FOLDS = (("e", "i"), ("o", "u"))


@lru_cache(maxsize=400_000)
def folded(text: str) -> str:
    """The ranking form: a normalised name with spellings folded but vowels kept.

    >>> folded("maadan"), folded("ma dan"), folded("sokhneh") == folded("sukhni")
    ('madan', 'madan', True)
    """
    tokens = []
    for token in text.split():
        if token in ARTICLES:
            continue
        token = _FINAL_H.sub("", token)
        for a, b in _FOLDS + _VOWEL_FOLDS:
            token = token.replace(a, b)
        tokens.append(_DOUBLE.sub(r"\1", token))
    return "".join(tokens)


@lru_cache(maxsize=100_000)
def arabic_key(text: str) -> str:
    """Arabic name folded: diacritics and tatweel removed, alef/ta marbuta/ya unified, article dropped."""
    text = _ARABIC_DIACRITICS.sub("", unicodedata.normalize("NFC", text)).translate(_ARABIC_FOLD)
    tokens = []
    for token in re.split(r"[\s\-_]+", text.strip()):
        if token.startswith("ال") and len(token) > 3:
            token = token[2:]
        # a final ya and ta marbuta alternate (الشدادي / الشدادة)
        if len(token) >= 4 and token[-1] == "ي":
            token = token[:-1] + "ه"
        if token:
            tokens.append(token)
    return " ".join(tokens)


def keys(text: str) -> tuple[str, str]:
    """(lookup key, ranking form) of a name in any script."""
    if has_arabic(text):
        key = arabic_key(text)
        return "ar:" + key.replace(" ", ""), key
    norm = normalise(text)
    return skeleton(norm), norm
