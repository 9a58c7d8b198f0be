"""The geocoder: normalisation, skeletons, lookups with context, derived positions, overrides."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from click.testing import CliRunner

from geo_control.crs import destination, distance_km
from geo_control.errors import GazetteerError
from geo_control.geocode import Gazetteer, locate
from geo_control.geocode.normalize import arabic_key, folded, normalise, skeleton, split_feature
from geo_control.records import EVENT_COLUMNS, UNRESOLVED_COLUMNS, Statement
from geo_control.settings import data_dir


@pytest.fixture(scope="session")
def gaz(tmp_path_factory):
    """The real gazetteer, built once into a temporary cache (no writes under ~/.cache)."""
    old = os.environ.get("GEO_CONTROL_CACHE")
    os.environ["GEO_CONTROL_CACHE"] = str(tmp_path_factory.mktemp("gazetteer-cache"))
    try:
        yield Gazetteer.load(data_dir())
    finally:
        if old is None:
            os.environ.pop("GEO_CONTROL_CACHE", None)
        else:
            os.environ["GEO_CONTROL_CACHE"] = old


DAY = dt.date(2017, 11, 2)


def statement(place, sentence="", **kw) -> Statement:
    return Statement("r.txt", DAY, DAY, "day", "SAA", "government", "capture", place, "asserted", 0.8,
                     sentence or f"The army captured {place}.", 0, 10, **kw)


# ----------------------------------------------------------------------------------------------
# normalisation


@pytest.mark.parametrize("spellings", [
    ("Deir ez-Zor", "Deir Ezzor", "Dayr az Zawr", "Dair al-Zour", "Deir al-Zor", "Deir el-Zor"),
    ("Mayadin", "al-Mayadeen", "Al Mayādīn", "Meyadin"),
    ("al-Shaddadi", "Shadadah", "Ash Shaddadah", "Shaddadi"),
    ("Sukhnah", "Sokhneh", "al-Sukhna", "As Sukhnah", "Sukna"),
    ("Hajin", "Hajjin", "Hajīn"),
    ("Ma`dan", "Maadan", "Ma'dan", "Ma‘dān"),
    ("Dhiban", "Thiban"),
    ("Raqqa", "ar-Raqqah", "Rakka"),
])
def test_spellings_share_a_skeleton(spellings):
    assert len({skeleton(s) for s in spellings}) == 1, {s: skeleton(s) for s in spellings}


def test_different_names_keep_different_skeletons():
    assert skeleton("Hajin") != skeleton("Hama")
    # Mayadin and Maadan share the consonants m-d-n: the ranking form tells them apart
    assert skeleton("Mayadin") == skeleton("Maadan")
    assert folded(normalise("Maadan")) != folded(normalise("Mayadin"))


@pytest.mark.parametrize("text, expected", [
    ("the village of al-Khamisiya", "khamisiya"),
    ("Jadid `Uqaydat", "jadid uqaydat"),
    ("ʿUqayribat", "uqayribat"),
    ("town of Bahrah", "bahrah"),
])
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize("text, name, hint", [
    ("South Kashmah oil field", "kashmah janubi", "oilfield"),
    ("Hmeimem Military Airbase", "hmeimem", "airbase"),
    ("Jubaliyah neighborhood", "jubaliyah", "district"),
    ("Hadalat IDP camp", "hadalat", "camp"),
    ("T2 pumping station", "t2", "station"),
    ("Tabqa", "tabqa", ""),
])
def test_feature_words_split_off(text, name, hint):
    assert split_feature(normalise(text)) == (name, hint)


def test_arabic_keys_fold_letter_variants():
    assert arabic_key("البوكمال") == arabic_key("البوكمال")
    assert arabic_key("إدلب") == arabic_key("ادلب")
    assert arabic_key("الشدادي") == arabic_key("الشدادة")


# ----------------------------------------------------------------------------------------------
# lookups (coordinates checked against the map: see the report)


@pytest.mark.parametrize("name, lat, lon", [
    ("Abu Kamal", 34.450, 40.919),
    ("al-Bukamal", 34.450, 40.919),
    ("Mayadin", 35.021, 40.453),
    ("Deir Ezzor", 35.336, 40.141),
    ("Numeisa", 35.787, 39.515),
    ("Maadan", 35.755, 39.598),
    ("Sukhnah", 34.885, 38.871),
    ("al-Shaddadi", 36.058, 40.735),
    ("Hajin", 34.693, 40.827),
    ("Atareb", 36.139, 36.825),
    ("Douma", 33.572, 36.403),
    ("Rastan", 34.927, 36.732),
    ("Oqeirbat", 35.043, 37.464),
    ("Hisyah", 34.412, 36.759),
    ("al-Qusayr", 34.509, 36.580),
    ("al-Qaim", 34.393, 40.989),
    ("Rukban", 33.31, 38.70),
    ("البوكمال", 34.450, 40.919),
    ("T2 pumping station", 34.37, 40.17),
    ("Hmeimem airbase", 35.40, 35.95),
    ("Deir ez-Zor airport", 35.285, 40.176),
])
def test_lookup_places_names_within_5km(gaz, name, lat, lon):
    best = gaz.lookup(name)[0]
    assert distance_km(lon, lat, best.lon, best.lat) < 5, best


def test_lookup_returns_nothing_for_an_empty_name(gaz):
    assert gaz.lookup("") == []
    assert gaz.lookup("---") == []


def test_lookup_all_lists_candidates_best_first(gaz):
    cands = gaz.lookup("Bahrah", all=True)
    assert len(cands) >= 2
    assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    assert {c.governorate for c in cands[:2]} == {"Deir-ez-Zor", "Hama"}


@pytest.mark.parametrize("context, governorate", [
    (("Hajin pocket",), "Deir-ez-Zor"),
    (("Hama countryside",), "Hama"),
    (("near=35.06,36.58",), "Hama"),
])
def test_context_chooses_among_same_named_places(gaz, context, governorate):
    assert gaz.lookup("Bahrah", context=context)[0].governorate == governorate


def test_near_chooses_among_same_named_places(gaz):
    far = gaz.lookup("al-Khamisiya", near=(33.47, 36.50))[0]
    close = gaz.lookup("al-Khamisiya", near=(35.75, 39.60))[0]
    assert far.governorate == "Rural Damascus"
    assert distance_km(39.587, 35.783, close.lon, close.lat) < 2


def test_highway_context_puts_a_village_between_its_ends(gaz):
    best = gaz.lookup("Khamisiya", context=("along the Raqqa-Deir ez-Zor highway",))[0]
    assert distance_km(39.587, 35.783, best.lon, best.lat) < 2


def test_a_bare_name_prefers_the_settlement_over_a_site_named_after_it(gaz):
    assert gaz.lookup("Tabqa")[0].feature in ("city", "town")
    assert gaz.lookup("Tabqa dam")[0].feature == "dam"


# ----------------------------------------------------------------------------------------------
# locate: events, unresolved, derived positions


def test_locate_returns_exact_columns_and_keeps_every_mention(gaz):
    sts = [statement("Mayadin"), statement("Zzqxqzz Qwrtyx"), statement("", from_place="")]
    events, unresolved = locate(sts, gaz)
    assert tuple(events.columns) == EVENT_COLUMNS
    assert tuple(unresolved.columns) == UNRESOLVED_COLUMNS
    assert len(events) + len(unresolved) == len(sts)
    assert events.iloc[0]["precision"] == 1


def test_unresolved_mentions_carry_a_reason_and_candidates(gaz):
    _, unresolved = locate([statement("Qzxwv Lkjhgf")], gaz)
    row = unresolved.iloc[0]
    assert row["reason"]
    assert row["sentence"].startswith("The army")


def test_offset_is_geodesic_from_the_anchor(gaz):
    st = statement("", "advanced 18km southwest of Mayadin towards the T2 pumping station",
                   from_place="Mayadin", distance_km=18.0, bearing_deg=225.0, target="T2 pumping station",
                   relation="offset")
    events, _ = locate([st], gaz)
    ev = events.iloc[0]
    anchor = gaz.lookup("Mayadin")[0]
    lon, lat = destination(anchor.lon, anchor.lat, 225.0, 18.0)
    assert abs(ev["lat"] - lat) < 1e-5 and abs(ev["lon"] - lon) < 1e-5
    assert abs(distance_km(anchor.lon, anchor.lat, ev["lon"], ev["lat"]) - 18.0) < 0.01
    assert ev["precision"] == 2
    assert ev["uncertainty_km"] > 5
    assert ev["target"] == "T2 pumping station"


def test_direction_without_distance_is_derived_with_a_wide_radius(gaz):
    st = statement("", "east of Deir Ezzor city", from_place="Deir Ezzor", bearing_deg=90.0, relation="offset")
    ev = locate([st], gaz)[0].iloc[0]
    assert ev["precision"] == 2 and ev["lon"] > 40.15 and ev["uncertainty_km"] >= 5


def test_part_of_a_place_shifts_toward_that_side(gaz):
    whole = locate([statement("Mayadin")], gaz)[0].iloc[0]
    south = locate([statement("Mayadin", relation="part:south")], gaz)[0].iloc[0]
    assert south["lat"] < whole["lat"] and south["precision"] == 2


def test_between_two_places_is_the_midpoint(gaz):
    ev = locate([statement("Hajin", relation="between:Abu Kamal")], gaz)[0].iloc[0]
    assert 34.45 < ev["lat"] < 34.70 and ev["precision"] == 2


def test_sentence_context_disambiguates(gaz):
    st = statement("Bahrah", "IS captured the town of Bahrah after clashes with the SDF around Hajin.")
    ev = locate([st], gaz)[0].iloc[0]
    assert distance_km(40.770, 34.742, ev["lon"], ev["lat"]) < 2


def test_an_area_match_is_precision_3(gaz):
    ev = locate([statement("Eastern Ghouta")], gaz)[0].iloc[0]
    assert ev["precision"] == 3


# ----------------------------------------------------------------------------------------------
# overrides


def test_overrides_win(tmp_path, gaz):
    path = tmp_path / "overrides.csv"
    path.write_text("name,lat,lon,aliases,feature,uncertainty_km\n"
                    "Mayadin,35.1,40.5,al-Mayadeen|Meyadin,city,2\n"
                    "Brand New Camp,34.0,39.0,,camp,\n", encoding="utf-8")
    over = Gazetteer.load(data_dir(), overrides=path)
    best = over.lookup("al-Mayadeen")[0]
    assert (best.lat, best.lon, best.place_id) == (35.1, 40.5, "override:mayadin")
    assert over.lookup("Brand New Camp")[0].feature == "camp"
    # the base gazetteer is untouched
    assert gaz.lookup("Mayadin")[0].place_id != "override:mayadin"


@pytest.mark.parametrize("content, fragment", [
    ("name,lat,lon\nX,abc,3\n", "row 2"),
    ("name,lon\nX,3\n", "lacks 'lat'"),
    ("name,lat,lon\n,35,40\n", "row 2"),
    ("name,lat,lon,feature\nX,35,40,spaceport\n", "unknown feature"),
    ("name,lat,lon\nX,135,40\n", "out of range"),
])
def test_malformed_overrides_name_the_file_and_row(tmp_path, gaz, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GazetteerError) as err:
        Gazetteer.load(data_dir(), overrides=path)
    message = str(err.value)
    assert str(path) in message and fragment in message and "\n" not in message


def test_missing_overrides_file_is_one_clear_error(tmp_path, gaz):
    with pytest.raises(GazetteerError, match="cannot read overrides"):
        Gazetteer.load(data_dir(), overrides=tmp_path / "nope.csv")


# ----------------------------------------------------------------------------------------------
# command line


def test_cli_geocode_prints_one_json_line_per_name(gaz):
    from geo_control.cli.geocode import command

    res = CliRunner().invoke(command, ["Deir Ezzor", "Qzxwvqq Plkmj"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.output.splitlines()]
    assert lines[0]["query"] == "Deir Ezzor" and lines[0]["place_id"] == "170794"
    assert set(lines[0]) >= {"query", "name", "lat", "lon", "place_id", "feature", "score"}
    assert len(lines) == 2


def test_cli_geocode_file_and_all(tmp_path, gaz):
    from geo_control.cli.geocode import command

    names = tmp_path / "names.txt"
    names.write_text("Bahrah\n\nHajin\n", encoding="utf-8")
    res = CliRunner().invoke(command, ["--file", str(names), "--all"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.output.splitlines()]
    assert {x["query"] for x in lines} == {"Bahrah", "Hajin"}
    assert sum(1 for x in lines if x["query"] == "Bahrah") >= 2


def test_cli_eval_geocode_prints_shares(tmp_path, gaz):
    from geo_control.cli.eval_geocode import command

    gold = tmp_path / "gold.csv"
    gold.write_text("query,lat,lon,context\nMayadin,35.021,40.453,\nBahrah,34.742,40.770,Hajin pocket\n",
                    encoding="utf-8")
    res = CliRunner().invoke(command, ["--gold", str(gold)])
    assert res.exit_code == 0, res.output
    assert "within    5 km: 100.0%" in res.output


# ----------------------------------------------------------------------------------------------
# statements as the extractor writes them


def test_offset_when_the_extractor_repeats_the_anchor_as_the_place(gaz):
    st = statement("Mayadin", "advanced 14km south of Mayadin", from_place="Mayadin", distance_km=14.0,
                   bearing_deg=180.0, relation="offset")
    ev = locate([st], gaz)[0].iloc[0]
    anchor = gaz.lookup("Mayadin")[0]
    assert ev["precision"] == 2
    assert abs(distance_km(anchor.lon, anchor.lat, ev["lon"], ev["lat"]) - 14.0) < 0.01
    assert ev["lat"] < anchor.lat


def test_a_stated_offset_locates_the_place_it_describes(gaz):
    # "a copper factory in Hisyah Industrial Area 30km south of Homs city"
    st = statement("Hisyah Industrial Area", "bombed a factory in Hisyah Industrial Area 30km south of Homs city",
                   from_place="Homs city", distance_km=30.0, bearing_deg=180.0)
    ev = locate([st], gaz)[0].iloc[0]
    assert ev["precision"] == 1
    assert distance_km(36.76, 34.45, ev["lon"], ev["lat"]) < 6


def test_a_river_alone_is_unresolved_with_a_reason(gaz):
    events, unresolved = locate([statement("Euphrates", relation="bank:west")], gaz)
    assert events.empty and "river" in unresolved.iloc[0]["reason"]


def test_places_named_in_the_report_outweigh_hints_from_elsewhere_in_it(gaz):
    # the extractor's hints come from the whole report; the villages named with Maadan decide
    text = ("The army took Sukhnah in the eastern Homs countryside on Sunday. On Tuesday it captured "
            "the villages of Numeisa, al-Jaber and al-Khamisiya along the Raqqa-Deir ez-Zor highway. "
            "These villages lie west of Maadan, the next IS-held village on the road.")
    st = statement("Maadan", "These villages lie west of Maadan, the next IS-held village on the road.",
                   context=("eastern Homs countryside", "Homs Province"))
    ev = locate([st], gaz, doc_text=text)[0].iloc[0]
    assert distance_km(39.598, 35.755, ev["lon"], ev["lat"]) < 2


def test_words_of_reporting_are_not_taken_for_places(gaz):
    found = {c.name for c in gaz.places_in("The Syrian Army and Iraqi forces met Russian advisers on Monday.")}
    assert found == set()


def test_a_feature_word_selects_the_site_or_the_village(gaz):
    assert gaz.lookup("Tiyas airbase")[0].feature == "airbase"
    assert gaz.lookup("Tiyas village")[0].feature != "airbase"


@pytest.mark.parametrize("query, lat, lon", [
    ("Hajin (Deir ez-Zor)", 34.693, 40.827),
    ("Bahrah, Hama", 35.065, 36.581),
    ("Bahrah (Hajin pocket)", 34.742, 40.770),
    ("eastern Deir ez-Zor", 35.336, 40.141),
])
def test_qualifiers_written_into_the_name_act_as_context(gaz, query, lat, lon):
    best = gaz.lookup(query)[0]
    assert distance_km(lon, lat, best.lon, best.lat) < 2, best


@pytest.mark.parametrize("english, arabic", [
    ("Big Fikha", "Fikha al-Kabira"),
    ("Upper Baghuz", "Baghuz Fawqani"),
    ("Western Kafr Jum", "Kafr Jum al-Gharbi"),
])
def test_english_adjectives_match_their_arabic_order(english, arabic):
    assert skeleton(english) == skeleton(arabic)


def test_a_road_named_in_the_sentence_places_villages_along_it(gaz):
    st = statement("Khamisiya", "The army captured Khamisiya along the Raqqa-Deir ez-Zor highway.")
    ev = locate([st], gaz)[0].iloc[0]
    assert distance_km(39.587, 35.783, ev["lon"], ev["lat"]) < 2


@pytest.mark.parametrize("query, feature", [
    ("Deir ez-Zor governorate", "region"),
    ("Raqqa province", "region"),
    ("Abu Kamal district", "county"),
    ("Deir ez-Zor airport", "airbase"),
    ("Deir ez-Zor", "city"),
])
def test_feature_words_choose_the_kind_of_place(gaz, query, feature):
    assert gaz.lookup(query)[0].feature == feature


def test_a_governorate_mention_is_precision_3(gaz):
    ev = locate([statement("Deir ez-Zor governorate")], gaz)[0].iloc[0]
    assert ev["precision"] == 3 and ev["uncertainty_km"] >= 30


@pytest.mark.parametrize("phrase", ["central park area", "the school of law and education area", "the old city"])
def test_common_nouns_of_a_town_match_no_place(gaz, phrase):
    assert gaz.lookup(phrase) == []
    _, unresolved = locate([statement(phrase)], gaz)
    assert unresolved.iloc[0]["reason"] == "no gazetteer name matches"


def test_a_site_missing_from_the_gazetteer_falls_back_to_its_town(gaz):
    ev = locate([statement("Hama Central Prison")], gaz)[0].iloc[0]
    assert ev["precision"] == 2 and distance_km(36.758, 35.132, ev["lon"], ev["lat"]) < 2


def test_a_bearing_without_distance_from_the_place_itself(gaz):
    # "the army pushed west of Maadan": a few km on that side, with a wider radius
    st = statement("Maadan", "The army pushed west of Maadan.", from_place="Maadan", bearing_deg=270.0,
                   relation="offset")
    ev = locate([st], gaz)[0].iloc[0]
    anchor = gaz.lookup("Maadan")[0]
    assert ev["precision"] == 2 and ev["lon"] < anchor.lon
    assert 3 < distance_km(anchor.lon, anchor.lat, ev["lon"], ev["lat"]) < 8
    assert ev["uncertainty_km"] >= anchor.uncertainty_km + 5


@pytest.mark.parametrize("place, from_place", [("Mayadin", ""), ("Mayadin", "Mayadin"), ("", "Mayadin")])
def test_near_with_a_distance_takes_it_as_the_radius(gaz, place, from_place):
    # "advanced to within 10 km of Mayadin"
    st = statement(place, "ISIS advanced to within 10 km of Mayadin.", from_place=from_place, distance_km=10.0,
                   relation="near")
    ev = locate([st], gaz)[0].iloc[0]
    anchor = gaz.lookup("Mayadin")[0]
    assert ev["precision"] == 2 and ev["uncertainty_km"] == 10.0
    assert distance_km(anchor.lon, anchor.lat, ev["lon"], ev["lat"]) < 0.01


def test_an_unknown_place_with_an_offset_is_the_derived_point(gaz):
    # "the Qzxwv Industrial Area 30km south of Homs city": the gazetteer lacks the place
    st = statement("Qzxwv Industrial Area", "captured the Qzxwv Industrial Area 30km south of Homs city",
                   from_place="Homs city", distance_km=30.0, bearing_deg=180.0)
    events, unresolved = locate([st], gaz)
    assert unresolved.empty
    ev = events.iloc[0]
    homs = gaz.lookup("Homs city")[0]
    assert ev["precision"] == 2 and ev["lat"] < homs.lat
    assert abs(distance_km(homs.lon, homs.lat, ev["lon"], ev["lat"]) - 30.0) < 0.01
    assert ev["place_id"] == homs.place_id


def test_a_same_named_place_far_from_the_offset_gives_way_to_the_derived_point(gaz):
    # Hajin is on the Euphrates, 300 km from "20km east of Homs city": not the place meant
    st = statement("Hajin", "captured Hajin 20km east of Homs city", from_place="Homs city", distance_km=20.0,
                   bearing_deg=90.0)
    ev = locate([st], gaz)[0].iloc[0]
    homs = gaz.lookup("Homs city")[0]
    assert ev["precision"] == 2 and ev["lon"] > homs.lon
    assert abs(distance_km(homs.lon, homs.lat, ev["lon"], ev["lat"]) - 20.0) < 0.01


def test_a_bearing_only_relation_still_prefers_the_named_place(gaz):
    # "Bahrah west of Hajin": no distance to hold the place to; the place itself is found
    st = statement("Bahrah", "The SDF captured Bahrah west of Hajin.", from_place="Hajin", bearing_deg=270.0)
    ev = locate([st], gaz)[0].iloc[0]
    assert ev["precision"] == 1 and distance_km(40.770, 34.742, ev["lon"], ev["lat"]) < 2


def test_an_explicit_near_hint_outweighs_a_slightly_better_spelling_far_away(gaz):
    # "Khamisiyeh" is spelt closer to al-Khamisiyah near Damascus, but the user says "near Mayadin":
    # al-Khumaysiyah, ~110 km from the hint, not the one 400 km away
    best = gaz.lookup("Khamisiyeh", near=(35.0, 40.4))[0]
    assert distance_km(39.587, 35.783, best.lon, best.lat) < 2
    assert gaz.lookup("Khamisiyeh", context=("near=35.0,40.4",))[0].place_id == best.place_id
