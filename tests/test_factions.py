import pytest

from geo_control.errors import FactionError
from geo_control.factions import FactionRegistry


@pytest.fixture(scope="module")
def registry():
    return FactionRegistry.default()


@pytest.mark.parametrize(
    "actor, faction",
    [
        ("the Syrian Arab Army (SAA) Tiger Forces", "government"),
        ("the Tiger Forces and the Republican Guard", "government"),
        ("pro-government forces", "government"),
        ("Afghani Fatemiyoun Battalions", "government"),
        ("the tribal Sons of Raqqa militia", "government"),
        ("Islamic State (IS)", "isis"),
        ("ISIL", "isis"),
        ("Daesh", "isis"),
        ("the US-backed Syrian Democratic Forces", "sdf"),
        ("SDF/PKK joint combination units", "sdf"),
        ("QSD", "sdf"),
        ("HTS", "hts"),
        ("Ahrar al-Sham", "opposition"),
        ("NDZ", "opposition"),
        ("Free Syrian Army groups", "opposition"),
        ("Turkish-backed rebels", "turkey"),
        ("Iraq's Popular Mobilization Units (PMU)", "iraq"),
        ("the US-led coalition", "coalition"),
        ("Israeli warplanes", "israel"),
    ],
)
def test_resolve_known_actors(registry, actor, faction):
    assert registry.resolve(actor) == faction


@pytest.mark.parametrize("text", ["this is the town", "nobody", "Is it true?"])
def test_acronyms_match_only_in_capitals(registry, text):
    assert registry.resolve(text) is None


def test_every_design_id_present(registry):
    for fid in ("government", "isis", "sdf", "hts", "opposition", "turkey", "iraq", "coalition", "israel", "unknown"):
        assert fid in registry.ids
        assert registry.colour(fid).startswith("#")


def test_user_file_extends_and_overrides(tmp_path, registry):
    extra = tmp_path / "mine.toml"
    extra.write_text('[government]\ncolour = "#ff0000"\naliases = ["Qalamoun Shield"]\n\n'
                     '[kurdish_peshmerga]\nlabel = "Peshmerga"\ncolour = "#123456"\naliases = ["Peshmerga"]\n')
    reg = FactionRegistry.from_toml(extra, base=registry)
    assert reg.colour("government") == "#ff0000"
    assert reg.resolve("the Qalamoun Shield forces") == "government"
    assert reg.resolve("Tiger Forces") == "government"  # base aliases kept
    assert reg.resolve("Peshmerga units") == "kurdish_peshmerga"


@pytest.mark.parametrize(
    "content, needle",
    [
        ("[x]\ncolour = 'red'\n", "colour"),
        ("not toml [", "TOML"),
        ("[Bad-Id]\ncolour = '#000000'\n", "lowercase"),
        ("x = 1\n", "table"),
    ],
)
def test_bad_registry_is_one_clear_error(tmp_path, content, needle):
    f = tmp_path / "bad.toml"
    f.write_text(content)
    with pytest.raises(FactionError, match=needle) as info:
        FactionRegistry.from_toml(f)
    assert str(f) in str(info.value) and "\n" not in str(info.value)


def test_unknown_faction_lookup_names_the_fix(registry):
    with pytest.raises(FactionError, match="--factions"):
        registry["martians"]
