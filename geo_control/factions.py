"""The faction registry: canonical ids, labels, colours and the aliases reports use.

The default registry ships in ``data/factions.toml``; users extend or override it with their
own TOML file without code (``--factions``). The registry is passed in, never read globally.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from geo_control.errors import FactionError

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
ACRONYM = re.compile(r"^[A-Z]{2,6}$")


@dataclass(frozen=True)
class Faction:
    id: str
    label: str
    colour: str
    aliases: tuple[str, ...]


class FactionRegistry:
    """Factions by id, with alias lookup.

    >>> reg = FactionRegistry.default()
    >>> reg.resolve("the Tiger Forces"), reg.resolve("Daesh"), reg.resolve("nobody")
    ('government', 'isis', None)
    """

    def __init__(self, factions: dict[str, Faction]):
        if "unknown" not in factions:
            factions = {**factions, "unknown": Faction("unknown", "Unknown", "#999999", ())}
        self.factions = factions
        # Longest alias first so "US-backed Syrian Democratic Forces" wins over "Syrian ..." aliases.
        pairs = sorted(
            ((a.lower(), f.id) for f in factions.values() for a in (*f.aliases, f.id)),
            key=lambda p: (-len(p[0]), p[0]),
        )
        self._alias_to_id: dict[str, str] = {}
        for alias, fid in pairs:
            self._alias_to_id.setdefault(alias, fid)
        self._acronyms = {a.lower() for f in factions.values() for a in f.aliases if ACRONYM.match(a)}
        # Acronyms (IS, SAA, SDF) match only in capitals: "this is" must not name the Islamic State.
        alternatives = [
            f"(?-i:{re.escape(a.upper())})" if a in self._acronyms else re.escape(a) for a, _ in pairs
        ]
        self._pattern = re.compile(r"(?<![\w-])(" + "|".join(alternatives) + r")(?![\w-])", re.IGNORECASE)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: Path, base: FactionRegistry | None = None) -> FactionRegistry:
        """Read a registry file; with ``base``, extend/override it."""
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise FactionError(f"{path}: faction registry not found; give an existing TOML file") from exc
        except tomllib.TOMLDecodeError as exc:
            raise FactionError(f"{path}: not valid TOML ({exc}); fix the syntax") from exc
        factions = dict(base.factions) if base else {}
        for fid, table in raw.items():
            if not isinstance(table, dict):
                raise FactionError(f"{path}: '{fid}' must be a table like [{fid}] with label, colour, aliases")
            if not re.fullmatch(r"[a-z][a-z0-9_]*", fid):
                raise FactionError(f"{path}: faction id '{fid}' must be lowercase letters, digits or _")
            old = factions.get(fid)
            colour = table.get("colour", table.get("color", old.colour if old else None))
            if colour is None or not HEX_COLOUR.match(str(colour)):
                raise FactionError(f"{path}: faction '{fid}' needs colour as '#rrggbb', got {colour!r}")
            aliases = table.get("aliases", [])
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                raise FactionError(f"{path}: aliases of '{fid}' must be a list of strings")
            label = str(table.get("label", old.label if old else fid))
            merged = tuple(dict.fromkeys([*(old.aliases if old else ()), *aliases]))
            factions[fid] = Faction(fid, label, str(colour), merged)
        return cls(factions)

    @classmethod
    def default(cls, data_dir: Path | None = None) -> FactionRegistry:
        from geo_control.settings import data_dir as default_data_dir

        return cls.from_toml((data_dir or default_data_dir()) / "factions.toml")

    @classmethod
    def load(cls, data_dir: Path | None = None, extra: str | Path | None = None) -> FactionRegistry:
        reg = cls.default(data_dir)
        return cls.from_toml(Path(extra), base=reg) if extra else reg

    # -- lookup -------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        return list(self.factions)

    def __getitem__(self, fid: str) -> Faction:
        try:
            return self.factions[fid]
        except KeyError:
            raise FactionError(
                f"unknown faction '{fid}'; known: {', '.join(self.factions)} (add it to a --factions file)"
            ) from None

    def colour(self, fid: str) -> str:
        return self.factions[fid].colour if fid in self.factions else self.factions["unknown"].colour

    def label(self, fid: str) -> str:
        return self.factions[fid].label if fid in self.factions else fid

    def resolve(self, actor: str) -> str | None:
        """The faction id of the first alias found in ``actor`` (longest alias wins), or None."""
        m = self._pattern.search(actor)
        return self._alias_to_id[m.group(1).lower()] if m else None

    def find_all(self, text: str) -> list[tuple[int, int, str]]:
        """Every alias occurrence in ``text`` as (start, end, faction id), left to right."""
        return [(m.start(), m.end(), self._alias_to_id[m.group(1).lower()]) for m in self._pattern.finditer(text)]
