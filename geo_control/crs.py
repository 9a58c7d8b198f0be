"""Coordinate reference systems and geodesic helpers.

Storage and exchange: WGS 84 (EPSG:4326), always lon/lat order (``always_xy=True``).
Geometry is buffered and built in a projected CRS for the region: for Syria the national
grid EPSG:22770 (Syria Lambert), which covers the whole country, unlike a single UTM zone.
Areas and distances that are reported are computed geodesically.
"""

from __future__ import annotations

from functools import lru_cache

from pyproj import CRS, Geod, Transformer

STORAGE_CRS = "EPSG:4326"
SYRIA_CRS = "EPSG:22770"

GEOD = Geod(ellps="WGS84")


@lru_cache(maxsize=8)
def transformer(src: str, dst: str) -> Transformer:
    """A cached lon/lat-ordered transformer between two CRSs."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def destination(lon: float, lat: float, bearing_deg: float, distance_km: float) -> tuple[float, float]:
    """The point reached going ``distance_km`` from (lon, lat) on ``bearing_deg``, geodesically.

    >>> lon, lat = destination(40.45, 35.02, 180, 14)
    >>> round(lat, 3), round(lon, 3)
    (34.894, 40.45)
    """
    lon2, lat2, _ = GEOD.fwd(lon, lat, bearing_deg, distance_km * 1000.0)
    return float(lon2), float(lat2)


def distance_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance in km between two lon/lat points."""
    _, _, metres = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(metres) / 1000.0


def area_km2(geometry) -> float:
    """Geodesic area in km² of a lon/lat (EPSG:4326) shapely geometry."""
    if geometry is None or geometry.is_empty:
        return 0.0
    area, _ = GEOD.geometry_area_perimeter(geometry)
    return abs(float(area)) / 1e6


def length_km(geometry) -> float:
    """Geodesic length in km of a lon/lat (EPSG:4326) line geometry."""
    if geometry is None or geometry.is_empty:
        return 0.0
    return float(GEOD.geometry_length(geometry)) / 1000.0
