"""Geocoding: place mentions as reports spell them -> points with precision and uncertainty.

``Gazetteer.load(data_dir, overrides=None)`` builds (once, then cached) the gazetteer;
``gazetteer.lookup(name)`` ranks candidates; ``locate(statements, gazetteer, doc_text)``
turns extracted statements into the events table and the unresolved mentions.
"""

from geo_control.errors import GazetteerError
from geo_control.geocode.gazetteer import Candidate, Gazetteer
from geo_control.geocode.locate import locate

__all__ = ["Gazetteer", "Candidate", "GazetteerError", "locate"]
