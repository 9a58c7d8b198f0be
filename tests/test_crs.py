import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from geo_control.crs import SYRIA_CRS, area_km2, destination, distance_km, transformer


def test_destination_is_geodesic():
    lon, lat = destination(40.45, 35.02, 225, 18)
    assert distance_km(40.45, 35.02, lon, lat) == pytest.approx(18, abs=1e-6)
    assert lon < 40.45 and lat < 35.02


@settings(max_examples=50, deadline=None)
@given(
    lon=st.floats(35.5, 42.0), lat=st.floats(32.3, 37.3),
    bearing=st.floats(0, 359.9), km=st.floats(0.1, 150),
)
def test_destination_round_trip(lon, lat, bearing, km):
    lon2, lat2 = destination(lon, lat, bearing, km)
    assert distance_km(lon, lat, lon2, lat2) == pytest.approx(km, rel=1e-6, abs=1e-6)


def test_area_of_one_degree_box_near_35N():
    # 1° x 1° at 35°N is about 111.0 km x 91.0 km.
    assert area_km2(box(40, 35, 41, 36)) == pytest.approx(10_000, rel=0.03)


def test_syria_lambert_resolves_offline_and_round_trips():
    fwd = transformer("EPSG:4326", SYRIA_CRS)
    back = transformer(SYRIA_CRS, "EPSG:4326")
    x, y = fwd.transform(40.14, 35.33)  # lon, lat (always_xy)
    lon, lat = back.transform(x, y)
    assert (lon, lat) == pytest.approx((40.14, 35.33), abs=1e-6)  # datum shift: ~2 cm
