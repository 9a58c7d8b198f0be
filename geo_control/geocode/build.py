"""Build the gazetteer's places and name index from ``data/gazetteer`` (and overrides).

Sources, in the order they are merged:

1. Who's On First places (GeoNames-derived Syrian localities, counties, regions; neighbours'
   localities within reach of the border), with English, Arabic and other names.
2. GeoNames cities500: the full alternate-name lists, joined on the GeoNames id; towns WOF lacks.
3. HNAP/OCHA Aleppo communities: the humanitarian spellings, merged into a WOF place with the
   same skeleton within 3 km, else added.
4. ``curated.csv``: oil fields, stations, airbases, crossings, city districts, camps, dams.
5. The user's overrides file, which wins: its names are removed from every other place.

Every place gets its governorate and district by point-in-polygon on the OCHA boundaries.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo_control.errors import GazetteerError
from geo_control.geocode.normalize import (
    FEATURE_WORDS,
    arabic_key,
    ascii_fold,
    folded,
    has_arabic,
    normalise,
    skeleton,
    split_feature,
)

log = logging.getLogger(__name__)

#: Bump when the build logic changes: invalidates every cached index.
BUILD_VERSION = "4"

#: Feature families of curated/override places; anything else is rejected with the list.
FEATURES = ("locality", "city", "town", "village", "district", "county", "region", "oilfield",
            "station", "airbase", "crossing", "camp", "dam", "bridge", "industrial", "military",
            "area", "hill", "road", "countryside")

#: Neighbouring-country places farther than this from Syria (degrees, ~30 km) are left out:
#: reports name border areas (al-Qaim, Rukban), not Ankara.
NEIGHBOUR_REACH_DEG = 0.3

_LATIN_OK = re.compile(r"^[\u0000-\u024f\u1e00-\u1eff\u02b0-\u02ff\u2018-\u201f\s]+$")


@dataclass
class Place:
    """One gazetteer place."""

    place_id: str
    name: str
    lat: float
    lon: float
    feature: str
    country: str = "SY"
    governorate: str = ""
    district: str = ""
    population: int = 0
    uncertainty_km: float = 1.0
    source: str = ""
    name_ar: str = ""
    aliases: list[str] = field(default_factory=list)
    prior: float = 0.5
    #: the place's own names (as opposed to alternate names); empty means ``name`` only
    primary: list[str] = field(default_factory=list)


def _split(value: str, sep: str = "|") -> list[str]:
    return [v.strip() for v in str(value or "").split(sep) if v.strip()]


def _usable_alias(alias: str) -> bool:
    """Latin-script (with diacritics) and Arabic names are useful; other scripts are noise."""
    if not alias or len(alias) > 80:
        return False
    if has_arabic(alias):
        return True
    return bool(_LATIN_OK.match(alias)) and bool(ascii_fold(alias))


def _feature_of_wof(placetype: str, code: str, population: int) -> str:
    if placetype == "region":
        return "region"
    if placetype == "county":
        return "county"
    if placetype == "neighbourhood":
        return "district"
    if placetype == "campus":
        return "airbase"
    if code in ("PPLC", "PPLA", "PPLA2") or population >= 50_000:
        return "city"
    if code == "PPLA3" or population >= 5_000:
        return "town"
    return "locality"


def _uncertainty(feature: str, population: int) -> float:
    """Radius (km) around the point that holds the place: larger for cities and areas."""
    if feature == "region":
        return 60.0
    if feature == "county":
        return 30.0
    if population > 0:
        return round(min(8.0, max(1.0, 0.35 * math.sqrt(population / 1000.0))), 1)
    return {"city": 4.0, "town": 2.0}.get(feature, 1.0)


def _prior(p: Place, gn_code: str = "") -> float:
    """How likely a bare mention of this name means this place, before context."""
    base = {
        "city": 0.75, "town": 0.6, "locality": 0.5, "village": 0.5, "district": 0.5,
        "county": 0.2, "region": 0.15, "countryside": 0.15, "area": 0.25,
    }.get(p.feature, 0.65)  # curated sites: oil fields, airbases, crossings...
    if p.population > 0:
        base += 0.05 * math.log10(p.population + 1) / 6 * 4
    # places with many recorded spellings are the better-known ones
    base += 0.02 * min(4.0, math.log2(1 + len(p.aliases)))
    if gn_code == "PPLQ":
        base -= 0.1
    if p.country != "SY":
        base -= 0.2
    return round(min(1.0, max(0.05, base)), 4)


def _read_tsv(path: Path, **kw) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, **kw)
    except (OSError, ValueError) as exc:
        raise GazetteerError(f"{path}: cannot read gazetteer table ({exc}); restore the file from the repository") from None


def _find(data_dir: Path, stem: str) -> Path:
    for candidate in (data_dir / "gazetteer" / f"{stem}.gz", data_dir / "gazetteer" / stem):
        if candidate.exists():
            return candidate
    raise GazetteerError(f"{data_dir / 'gazetteer' / stem}: gazetteer file missing; restore data/gazetteer from the repository")


def source_files(data_dir: Path) -> list[Path]:
    """The data files the built index depends on (their checksums key the cache)."""
    files = [
        _find(data_dir, "wof_places_syria_region.tsv"),
        _find(data_dir, "geonames_cities500_syria_region.tsv"),
        _find(data_dir, "hnap_communities_aleppo_sy02.tsv"),
        data_dir / "boundaries" / "syria_adm1_governorates_ocha.geojson",
        data_dir / "boundaries" / "syria_adm2_districts_ocha2016.geojson",
        data_dir / "boundaries" / "syria_adm0_ocha.geojson",
        data_dir / "hydro" / "ne10m_rivers_lake_centerlines_region.geojson",
    ]
    curated = data_dir / "gazetteer" / "curated.csv"
    if curated.exists():
        files.append(curated)
    return files


# --------------------------------------------------------------------------------------------
# Admin areas


class _Admin:
    """Point-in-polygon lookups of governorate and district (OCHA)."""

    def __init__(self, data_dir: Path):
        import geopandas as gpd

        bdir = data_dir / "boundaries"
        try:
            self.adm1 = gpd.read_file(bdir / "syria_adm1_governorates_ocha.geojson").to_crs("EPSG:4326")
            self.adm2 = gpd.read_file(bdir / "syria_adm2_districts_ocha2016.geojson").to_crs("EPSG:4326")
            adm0 = gpd.read_file(bdir / "syria_adm0_ocha.geojson").to_crs("EPSG:4326")
        except Exception as exc:  # pyogrio raises several types for a broken file
            raise GazetteerError(f"{bdir}: cannot read Syrian boundaries ({exc}); restore data/boundaries") from None
        self.syria = adm0.geometry.union_all()
        self.reach = self.syria.buffer(NEIGHBOUR_REACH_DEG)
        self.gov_names = [str(v) for v in self.adm1["ADM1_EN"]]
        self.gov_arabic = [str(v) for v in self.adm1["ADM1_AR"]]

    def assign(self, lon: np.ndarray, lat: np.ndarray) -> tuple[list[str], list[str]]:
        import shapely

        pts = shapely.points(lon, lat)
        gov = [""] * len(pts)
        dist = [""] * len(pts)
        for frame, key, out in ((self.adm1, "ADM1_EN", gov), (self.adm2, "NAME_EN", dist)):
            tree = shapely.STRtree(frame.geometry.values)
            ipts, igeom = tree.query(pts, predicate="within")
            names = frame[key].astype(str).to_numpy()
            for i, g in zip(ipts, igeom, strict=True):
                out[i] = names[g]
        return gov, dist

    def near_syria(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        import shapely

        return shapely.contains_xy(self.reach, lon, lat)


# --------------------------------------------------------------------------------------------
# Sources


def _wof_places(data_dir: Path, admin: _Admin) -> tuple[list[Place], dict[str, Place]]:
    df = _read_tsv(_find(data_dir, "wof_places_syria_region.tsv"))
    df = df[df["placetype"].isin(["locality", "neighbourhood", "county", "region", "campus", "localadmin"])]
    lat = pd.to_numeric(df["latitude"], errors="coerce").to_numpy()
    lon = pd.to_numeric(df["longitude"], errors="coerce").to_numpy()
    ok = ~(np.isnan(lat) | np.isnan(lon))
    syrian = (df["country"].to_numpy() == "SY")
    keep = ok & (syrian | admin.near_syria(np.nan_to_num(lon), np.nan_to_num(lat)))
    # Neighbours' counties and regions are not what Syrian reports name.
    keep &= syrian | df["placetype"].isin(["locality", "campus", "neighbourhood"]).to_numpy()
    df = df[keep]
    lat, lon = lat[keep], lon[keep]
    gov, dist = admin.assign(lon, lat)
    places: list[Place] = []
    by_gn: dict[str, Place] = {}
    for i, row in enumerate(df.itertuples(index=False)):
        pop = int(float(row.gn_population or 0) or 0)
        feature = _feature_of_wof(row.placetype, row.gn_feature_code, pop)
        names_ar = _split(row.name_ara)
        aliases = [row.name] + _split(row.name_eng) + _split(row.names_other) + names_ar
        if row.gn_asciiname:
            aliases.append(row.gn_asciiname)
        pid = row.gn_id if row.gn_id and row.placetype == "locality" else f"wof:{row.wof_id}"
        latin = [a for a in (row.name_eng.split("|")[0], row.gn_asciiname, row.name, *aliases) if a and not has_arabic(a)]
        g = gov[i] if row.country == "SY" and gov[i] else (row.region_name if row.country == "SY" else f"{row.region_name} ({row.country})")
        p = Place(
            place_id=pid, name=(row.name if row.name and not has_arabic(row.name) else (latin[0] if latin else row.name)),
            lat=float(lat[i]), lon=float(lon[i]), feature=feature, country=row.country or "",
            governorate=g, district=dist[i] if row.country == "SY" else row.county_name,
            population=pop, source="wof", name_ar=names_ar[0] if names_ar else "",
            aliases=[a for a in dict.fromkeys(aliases) if _usable_alias(a)],
            primary=[row.name, *_split(row.name_eng), row.gn_asciiname],
        )
        p.uncertainty_km = _uncertainty(feature, pop)
        p.prior = _prior(p, row.gn_feature_code)
        places.append(p)
        if row.gn_id and row.placetype == "locality":
            by_gn[row.gn_id] = p
    return places, by_gn


def _cities500(data_dir: Path, admin: _Admin, by_gn: dict[str, Place]) -> list[Place]:
    df = _read_tsv(_find(data_dir, "geonames_cities500_syria_region.tsv"), quoting=3)
    added: list[Place] = []
    rows = []
    for row in df.itertuples(index=False):
        alts = [a for a in _split(row.alternatenames, ",") if _usable_alias(a)]
        pop = int(float(row.population or 0) or 0)
        p = by_gn.get(row.geonameid)
        if p is not None:
            p.aliases = list(dict.fromkeys(p.aliases + [row.name, row.asciiname] + alts))
            p.aliases = [a for a in p.aliases if _usable_alias(a)]
            if pop > p.population:
                p.population = pop
                p.feature = _feature_of_wof("locality", row.feature_code, pop)
                p.uncertainty_km = _uncertainty(p.feature, pop)
                p.prior = _prior(p, row.feature_code)
            continue
        rows.append((row, alts, pop))
    if not rows:
        return added
    lon = np.array([float(r[0].longitude) for r in rows])
    lat = np.array([float(r[0].latitude) for r in rows])
    near = admin.near_syria(lon, lat)
    gov, dist = admin.assign(lon, lat)
    for i, (row, alts, pop) in enumerate(rows):
        if not near[i]:
            continue
        feature = _feature_of_wof("locality", row.feature_code, pop)
        p = Place(
            place_id=row.geonameid, name=row.name, lat=float(lat[i]), lon=float(lon[i]), feature=feature,
            country=row.country_code, governorate=gov[i] or row.country_code, district=dist[i],
            population=pop, source="geonames-cities500",
            aliases=[a for a in dict.fromkeys([row.name, row.asciiname] + alts) if _usable_alias(a)],
            primary=[row.name, row.asciiname],
        )
        p.name_ar = next((a for a in p.aliases if has_arabic(a)), "")
        p.uncertainty_km = _uncertainty(feature, pop)
        p.prior = _prior(p, row.feature_code)
        added.append(p)
    return added


def _hnap(data_dir: Path, admin: _Admin, places: list[Place]) -> list[Place]:
    """HNAP Aleppo communities: humanitarian spellings merged into the matching WOF place."""
    df = _read_tsv(_find(data_dir, "hnap_communities_aleppo_sy02.tsv"))
    by_skel: dict[str, list[Place]] = {}
    for p in places:
        if p.governorate == "Aleppo" and p.feature not in ("county", "region"):
            for a in p.aliases:
                if not has_arabic(a):
                    by_skel.setdefault(skeleton(normalise(a)), []).append(p)
            if p.name_ar:
                by_skel.setdefault("ar:" + arabic_key(p.name_ar), []).append(p)
    lat = pd.to_numeric(df["latitude"], errors="coerce").to_numpy()
    lon = pd.to_numeric(df["longitude"], errors="coerce").to_numpy()
    gov, dist = admin.assign(lon, lat)
    added: list[Place] = []
    from geo_control.crs import distance_km

    for i, row in enumerate(df.itertuples(index=False)):
        names = [row.name_en, *_split(row.name_en_variants)]
        names_ar = [row.name_ar, *_split(row.name_ar_variants)]
        names = [n for n in names if n]
        names_ar = [n for n in names_ar if n]
        match = None
        for key in [skeleton(normalise(n)) for n in names] + ["ar:" + arabic_key(n) for n in names_ar]:
            for p in by_skel.get(key, []):
                if distance_km(p.lon, p.lat, lon[i], lat[i]) <= 3.0:
                    match = p
                    break
            if match:
                break
        if match is not None:
            match.aliases = list(dict.fromkeys(match.aliases + names + names_ar))
            continue
        # order_only rows can be one slot (~10 km) off: say so in the radius.
        unc = 10.0 if row.coord_confidence == "order_only" else 1.5
        p = Place(
            place_id=f"hnap:{row.pcode}", name=row.name_en, lat=float(lat[i]), lon=float(lon[i]),
            feature="locality", governorate=gov[i] or "Aleppo", district=dist[i] or row.adm2_name_en,
            source=f"hnap:{row.coord_source}", name_ar=row.name_ar,
            aliases=list(dict.fromkeys(names + names_ar)), uncertainty_km=unc,
        )
        p.prior = _prior(p) - 0.05
        added.append(p)
    return added


def read_place_table(path: Path, kind: str, admin: _Admin | None, id_prefix: str) -> list[Place]:
    """Read curated.csv or a user's overrides: name,lat,lon[,aliases,feature,uncertainty_km,...].

    Raises ``GazetteerError`` naming the file and row for a malformed table.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise GazetteerError(f"{path}: cannot read {kind} file ({exc.strerror}); check the path") from None
    except UnicodeDecodeError:
        raise GazetteerError(f"{path}: {kind} file is not UTF-8 text; save it as UTF-8 CSV") from None
    rows = [r for r in rows if r and not (len(r) == 1 and not r[0].strip()) and not r[0].lstrip().startswith("#")]
    if not rows:
        raise GazetteerError(f"{path}: {kind} file is empty; expected a header name,lat,lon[,aliases,feature,uncertainty_km]")
    header = [h.strip().lower() for h in rows[0]]
    for col in ("name", "lat", "lon"):
        if col not in header:
            raise GazetteerError(f"{path}: row 1: {kind} header lacks '{col}'; expected name,lat,lon[,aliases,feature,uncertainty_km]")
    places = []
    for n, row in enumerate(rows[1:], start=2):
        if len(row) > len(header):
            raise GazetteerError(f"{path}: row {n}: {len(row)} fields but the header has {len(header)}; quote fields containing commas")
        rec = dict(zip(header, [c.strip() for c in row], strict=False))
        name = rec.get("name", "")
        if not name:
            raise GazetteerError(f"{path}: row {n}: empty name; every row needs name,lat,lon")
        try:
            lat, lon = float(rec.get("lat", "")), float(rec.get("lon", ""))
        except ValueError:
            raise GazetteerError(f"{path}: row {n} ({name}): lat/lon '{rec.get('lat', '')}','{rec.get('lon', '')}' are not numbers; use decimal degrees, e.g. 35.02,40.45") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise GazetteerError(f"{path}: row {n} ({name}): lat {lat}, lon {lon} out of range; give lat then lon in decimal degrees")
        feature = (rec.get("feature") or "locality").lower()
        if feature not in FEATURES:
            raise GazetteerError(f"{path}: row {n} ({name}): unknown feature '{feature}'; use one of {', '.join(FEATURES)}")
        try:
            unc = float(rec.get("uncertainty_km") or 1.0)
        except ValueError:
            raise GazetteerError(f"{path}: row {n} ({name}): uncertainty_km '{rec.get('uncertainty_km')}' is not a number") from None
        pop = rec.get("population") or "0"
        try:
            population = int(float(pop))
        except ValueError:
            raise GazetteerError(f"{path}: row {n} ({name}): population '{pop}' is not a number") from None
        aliases = [name] + _split(rec.get("aliases", ""))
        if rec.get("name_ar"):
            aliases.append(rec["name_ar"])
        slug = re.sub(r"[^a-z0-9]+", "-", ascii_fold(name)).strip("-") or f"row{n}"
        p = Place(
            place_id=rec.get("id") or f"{id_prefix}:{slug}", name=name, lat=lat, lon=lon, feature=feature,
            primary=aliases[:],
            country=rec.get("country") or "SY", population=population, uncertainty_km=unc,
            source=rec.get("source") or kind, name_ar=rec.get("name_ar", ""), aliases=list(dict.fromkeys(aliases)),
        )
        # a curated site is there because reports name it: it beats a same-named hamlet
        p.prior = min(1.0, _prior(p) + (0.25 if kind == "curated" else 0.0))
        places.append(p)
    if admin is not None and places:
        gov, dist = admin.assign(np.array([p.lon for p in places]), np.array([p.lat for p in places]))
        for p, g, d in zip(places, gov, dist, strict=True):
            p.governorate = g or p.country
            p.district = d
    return places


def _nearest_admin(extra: list[Place], places: list[Place]) -> None:
    """A site on the border (Bab al-Hawa) falls outside the generalised polygons: take the
    governorate and district of the nearest Syrian locality within 30 km."""
    from geo_control.crs import distance_km

    syrian = [p for p in places if p.country == "SY" and p.feature in ("city", "town", "locality") and p.district]
    lat = np.array([p.lat for p in syrian])
    lon = np.array([p.lon for p in syrian])
    for p in extra:
        if p.district or not len(syrian):
            continue
        j = int(np.argmin((lat - p.lat) ** 2 + ((lon - p.lon) * math.cos(math.radians(p.lat))) ** 2))
        if distance_km(p.lon, p.lat, syrian[j].lon, syrian[j].lat) < 30:
            p.governorate, p.district = syrian[j].governorate, syrian[j].district


def _euphrates(data_dir: Path) -> list[list[tuple[float, float]]]:
    """The Euphrates as lon/lat lines (for 'the western bank of the Euphrates')."""
    import json

    path = data_dir / "hydro" / "ne10m_rivers_lake_centerlines_region.geojson"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        log.warning("%s unreadable: bank relations fall back to the place itself", path)
        return []
    lines = []
    for f in data.get("features", []):
        if str(f["properties"].get("name")) not in ("Euphrates", "Firat", "Al Furat"):
            continue
        geom = f["geometry"]
        parts = geom["coordinates"] if geom["type"] == "MultiLineString" else [geom["coordinates"]]
        for part in parts:
            lines.append([(float(x), float(y)) for x, y in part])
    return lines


# --------------------------------------------------------------------------------------------
# Index


def alias_entry(alias: str) -> tuple[str, str, str] | None:
    """(key, ranking form, feature hint) under which an alias is indexed."""
    if has_arabic(alias):
        key = arabic_key(alias)
        return ("ar:" + key.replace(" ", ""), key, "") if key else None
    norm = normalise(alias)
    if not norm:
        return None
    stripped, hint = split_feature(norm)
    key = skeleton(stripped)
    return (key, folded(stripped), hint) if key else None


#: An alternate name that is the primary name of another place this close (km) was probably
#: borrowed from that neighbour (GeoNames lists Abu Hardub among Hajin's names).
BORROWED_KM = 30.0


def build_index(places: list[Place]) -> dict[str, list[tuple[int, str, str, int]]]:
    """skeleton key -> [(place index, ranking form, feature hint of the alias, kind)].

    ``kind`` is 1 for a place's own name (and its Arabic name), 0 for an alternate name,
    -1 for an alternate name that is the own name of a neighbouring place (borrowed).
    """
    index: dict[str, list[tuple[int, str, str, int]]] = {}
    for i, p in enumerate(places):
        seen: dict[tuple[str, str], int] = {}
        primaries = {p.name, p.name_ar, *p.primary}
        for alias in p.aliases:
            entry = alias_entry(alias)
            if entry is None:
                continue
            key, form, hint = entry
            kind = 1 if alias in primaries else 0
            if (key, form) in seen:
                k = seen[(key, form)]
                _i, _f, old_hint, old_kind = index[key][k]
                # keep the plainest hint ("Jobar" over "Jobar district") and the best kind
                index[key][k] = (i, form, old_hint if not old_hint else hint, max(kind, old_kind))
                continue
            seen[(key, form)] = len(index.setdefault(key, []))
            index[key].append((i, form, hint, kind))
    from geo_control.crs import distance_km

    for entries in index.values():
        # only a settlement's own plain name counts ("Tabqa dam" does not own "Tabqa")
        owners = [(i, form) for i, form, h, kind in entries
                  if kind == 1 and not h and places[i].feature in ("locality", "town", "city", "village")]
        if not owners or len(entries) == len(owners):
            continue
        for k, (i, form, hint, kind) in enumerate(entries):
            if kind != 0:
                continue
            p = places[i]
            for j, oform in owners:
                if oform == form and j != i and \
                        distance_km(p.lon, p.lat, places[j].lon, places[j].lat) < BORROWED_KM:
                    entries[k] = (i, form, hint, -1)
                    break
    return index


def build_places(data_dir: Path) -> tuple[list[Place], list[list[tuple[float, float]]], list[tuple[str, str]]]:
    """Every place from the data folder (without overrides), the Euphrates, and governorates."""
    admin = _Admin(data_dir)
    places, by_gn = _wof_places(data_dir, admin)
    places += _cities500(data_dir, admin, by_gn)
    places += _hnap(data_dir, admin, places)
    curated = data_dir / "gazetteer" / "curated.csv"
    if curated.exists():
        extra = read_place_table(curated, "curated", admin, "curated")
        _nearest_admin(extra, places)
        places += extra
    governorates = list(zip(admin.gov_names, admin.gov_arabic, strict=True))
    log.info("gazetteer built: %d places", len(places))
    return places, _euphrates(data_dir), governorates


__all__ = ["Place", "build_places", "build_index", "read_place_table",
           "alias_entry", "source_files", "BUILD_VERSION", "FEATURE_WORDS"]
