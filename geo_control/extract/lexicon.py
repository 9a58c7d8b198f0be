"""The vocabulary of conflict reporting: action triggers, modality cues, place syntax.

Everything the extractor recognises is declared here as compiled regular expressions, so
adding a phrasing is a one-line change. Patterns run on a *masked* copy of the text in which
faction mentions are replaced by ``§`` characters (same length), so "Tiger Forces" is never
read as a place and gaps can show where an actor stands.
"""

from __future__ import annotations

import re

MASK = "§"

# --------------------------------------------------------------------------------------------
# Action triggers. Each alternative is a named group ``<action>__<n>``; the action is the part
# before ``__``. Order matters only between overlapping phrases (longest listed first).
# --------------------------------------------------------------------------------------------
_CAPTURE = [
    r"(?:established|establishing|establish(?:es)?|imposed|imposing|impose[sd]?|restored|restoring|restores?|"
    r"assumed|assuming|gained|gaining|gains?|seized|seizing|seizes?|took|taken|taking|takes?|wrest(?:ed|ing|s)?)"
    r"\s+(?:full\s+|complete\s+|total\s+|effective\s+)?control\s+(?:over|of)",
    r"took\s+over|taken\s+over|taking\s+over|takes?\s+over|took\s+back|taken\s+back|taking\s+back|takes?\s+back|"
    r"won\s+back|winning\s+back|wins?\s+back",
    r"(?:gained|gaining|gains?)(?=\s+(?:new\s+|several\s+|more\s+|some\s+)?(?:positions|ground|territory|areas|points))",
    r"re-?captur(?:ed|es|ing|e)|re-?took|re-?tak(?:en|es|ing|e)|re-?gain(?:ed|s|ing)?|re-?seiz(?:ed|es|ing|e)",
    r"(?:captur(?:ed|es|ing|e)|seiz(?:ed|es|ing|e)|seizure|liberat(?:ed|es|ing|e|ion)|took|taken|tak(?:es|ing|e))"
    r"(?!\s+(?:part|place|care|note|advantage|responsibility|refuge|shelter|over|back|measures|steps|action|"
    r"photos?|pictures?|prisoners?|hostages?|captives?|casualties|losses|time|years?|months?|weeks?|days?|hours?))",
    r"overr(?:an|un|unning|uns)|clear(?:ed|s|ing)?(?!\s+(?:that|of\s+mines|mines|whether|sign))|secur(?:ed|es|ing|e)|"
    r"conquer(?:ed|s|ing)?|storm(?:ed|s|ing)?\s+and\s+(?:took|captured|seized|secured)",
    r"(?:drove|driven|drive[sn]?|driving|expell(?:ed|ing)|expels?|oust(?:ed|ing|s)?|kick(?:ed|ing|s)?|pushed|pushing|push(?:es)?|"
    r"chas(?:ed|ing|es?))(?=\s+(?:the\s+)?" + MASK + r"+[^.;]{0,30}?\s+(?:out\s+of|from)\s)",
    r"fell\s+(?:in)?to|fallen\s+(?:in)?to|falls?\s+(?:in)?to|falling\s+(?:in)?to|"
    r"c[ao]me\s+under\s+(?:the\s+)?(?:full\s+)?control\s+of|fell\s+under\s+(?:the\s+)?control\s+of",
    r"declar(?:ed|es|ing|e)\s+(?:full\s+|final\s+|total\s+|complete\s+)?victory",
]
_ADVANCE = [
    r"advanc(?:ed|es|ing|e)|push(?:ed|es|ing)?(?!\s+back)|progress(?:ed|es|ing)?|"
    r"mov(?:ed|es|ing|e)(?=\s+(?:closer|towards?|into|deeper|further|on)\b)|"
    r"reach(?:ed|es|ing)?|approach(?:ed|es|ing)|clos(?:ed|ing|es?)\s+in\s+on|inch(?:ed|ing|es)?\s+(?:closer\s+)?towards?|"
    r"march(?:ed|es|ing)?(?=\s+(?:on\b|towards?))|enter(?:ed|s|ing)?|made\s+(?:[a-z]+\s+){0,2}?(?:advances|progress|gains)|"
    r"mak(?:es|ing|e)\s+(?:[a-z]+\s+){0,2}?(?:advances|progress|gains)|"
    r"breach(?:ed|es|ing)?|penetrat(?:ed|es|ing|e)|infiltrat(?:ed|es|ing|e)|re-?enter(?:ed|s|ing)?|"
    r"cross(?:ed|es|ing)(?!\s+(?:the\s+)?border)|establish(?:ed|es|ing)?\s+(?:a\s+)?bridgeheads?|"
    r"(?:re)?deploy(?:ed|s|ing)?(?=\s+(?:\w+\s+)?(?:in|into|to|near|around|on|at)\b)|"
    r"press(?:ed|es|ing)?\s+(?:on|ahead|forward|deeper|further)|"
    r"(?:continu(?:ed|es|ing|e)|head(?:ed|ing|s)?|mov(?:ed|es|ing|e)|swept|sweep(?:s|ing)?|drove|driving|edg(?:ed|es|ing|e)|"
    r"inch(?:ed|es|ing)?)(?:\s+(?:(?:north|south|east|west)(?:-?(?:east|west))?(?:wards?)?|closer|further|deeper))?"
    r"(?=\s+(?:towards?\b|into\b|on\s+to\b|to\s+within\b|along\b))|"
    r"(?:to\s+)?within\s+(?:about\s+|some\s+|around\s+|just\s+)?\d+(?:\.\d+)?\s*-?\s*(?:km|kms|kilometers|kilometres|miles)\s+of",
]
_HOLD = [
    r"maintain(?:ed|s|ing)?\s+(?:at\s+least\s+)?(?:a\s+|their\s+|its\s+)?(?:\w+\s+){0,2}(?:grasp|grip|hold|control|presence|positions)\s+(?:over|of|on|in)",
    r"(?:remain(?:ed|s|ing)?|(?:is|are|was|were|been|be))\s+(?:still\s+|now\s+|firmly\s+)?(?:under\s+(?:the\s+)?(?:full\s+)?control|in\s+the\s+hands)\s+of",
    r"(?:remain(?:ed|s|ing)?|(?:is|are|was|were|been|be)|stay(?:ed|s)?)\s+(?:still\s+|now\s+|firmly\s+|fully\s+)?in\s+(?:full\s+)?control\s+of",
    r"hold(?:s|ing)?(?!\s+(?:talks|a\s+meeting|meetings|elections|negotiations|back))|held(?!\s+(?:talks|a\s+meeting|meetings|elections|negotiations))|"
    r"control(?:s|led|ling)?(?!\s+(?:of|over|room|centre|center))|retain(?:ed|s|ing)?|keep(?:s|ing)?\s+control\s+of|kept\s+control\s+of|"
    r"dominat(?:ed|es|ing|e)|occup(?:ied|ies|y|ying)|defend(?:ed|s|ing)?|entrenched\s+in|maintain(?:ed|s|ing)?|"
    r"(?:established|establishing|set\s+up|sets\s+up|setting\s+up|erected|built|opened)\s+(?:a\s+|an\s+|two\s+|three\s+|several\s+)?"
    r"(?:new\s+)?(?:observation\s+(?:post|point)|outpost|checkpoint|military\s+base|base|position|headquarters)s?|"
    r"(?<=" + MASK + r"\s)(?:checkpoints?|outposts?|observation\s+posts?|military\s+bases?|bases|garrisons?)|"
    r"garrison(?:ed|s)?|man(?:s|ned|ning)(?=\s+(?:the\s+)?(?:checkpoints?|positions|frontlines?))",
]
_SIEGE = [
    r"encircl(?:ed|es|ing|e|ement)|besieg(?:ed|es|ing|e)|surround(?:ed|s|ing)?|"
    r"cut(?:ting|s)?\s+off|laid\s+siege\s+to|lay(?:ing|s)?\s+siege\s+to|siege\s+(?:of|on)|blockad(?:ed|es|ing|e)|"
    r"trapp(?:ed|ing)|isolat(?:ed|es|ing|e)(?=\s+(?:the|" + MASK + r"))",
]
_CONTEST = [
    r"fight(?:ing|s)?\s+(?:for|over)|fought\s+(?:for|over)|battl(?:ed|es|ing|e)\s+(?:for|over)|struggle\s+for|"
    r"counter-?attack(?:ed|s|ing)?|counter-?offensives?|(?:hotly\s+|largely\s+|still\s+)*contested|disputed|"
    r"tug\s+of\s+war\s+(?:for|over)",
]
_WITHDRAW = [
    r"withdr(?:ew|awn|aws|awing|aw)|withdrawal|retreat(?:ed|s|ing)?|fled|fle(?:es|eing|e)|evacuat(?:ed|es|ing|e|ion)|"
    r"pull(?:ed|s|ing)?\s+(?:out|back)|abandon(?:ed|s|ing)?|los(?:t|es|ing|e)(?!\s+(?:\d|dozens|men|fighters|troops|soldiers|members|lives|their\s+lives))|"
    r"(?:were|was|been|being|are|is)\s+(?:\w+ly\s+)?(?:driven|expelled|ousted|pushed|forced|kicked|chased)\s+(?:out\s+of|from|back\s+from)|"
    r"handed\s+over|hand(?:s|ing)?\s+over|relinquish(?:ed|es|ing)?|gave\s+up|giv(?:es|ing)\s+up|"
    r"collaps(?:ed|es|ing|e)|surrender(?:ed|s|ing)?|capitulat(?:ed|es|ing|e)|left(?!\s+(?:behind|bank|side|wing|over|for|to\s+the|in\s+place|with|the\s+(?:area|town|city|village)\s+to))",
]
_ATTACK = [
    r"air\s*-?strikes?|air\s+raids?|air\s+attacks?|drone\s+strikes?|missile\s+strikes?|strikes?|struck|"
    r"shell(?:ed|s|ing)|bomb(?:ed|s|ing)(?!\s+(?:maker|making|factory))|bombard(?:ed|s|ing|ment)|"
    r"target(?:ed|ing)|hit(?:s|ting)?(?!\s+(?:back|list))|attack(?:ed|s|ing)?|raid(?:ed|s|ing)?|"
    r"storm(?:ed|s|ing)?|assault(?:ed|s|ing)?|offensives?|clash(?:ed|es|ing)?|skirmish(?:ed|es)?|fighting|fought|"
    r"suicide\s+(?:car\s+)?bomb(?:ing|er)?s?|car\s+bombs?|vbieds?|mortars?|rockets?|artillery(?:\s+fire)?|"
    r"ambush(?:ed|es)?|destroy(?:ed|s|ing)|fir(?:ed|es|ing)\s+(?:\w+\s+){0,2}?(?:missiles|rockets|shells|mortars)(?=\s+(?:at|on|into|towards?)\b)",
]

ACTIONS_PATTERNS = {
    "capture": _CAPTURE, "advance": _ADVANCE, "hold": _HOLD, "siege": _SIEGE,
    "contest": _CONTEST, "withdraw": _WITHDRAW, "attack": _ATTACK,
}
# Groups are tried in this order at each position: a more specific action (contest's "fighting
# for") must come before a general one (attack's "fighting").
_ORDER = ("contest", "capture", "withdraw", "siege", "hold", "advance", "attack")
TRIGGER = re.compile(
    r"(?<![\w-])(?:" + "|".join(
        f"(?P<{action}__{i}>{p})" for action in _ORDER for i, p in enumerate(ACTIONS_PATTERNS[action])
    ) + r")(?![\w-])",
    re.IGNORECASE,
)


# The same, for lowercased text: sre matches literal alternatives ~2.5x faster without IGNORECASE.
TRIGGER_LOWER = re.compile(TRIGGER.pattern)


def trigger_action(m: re.Match) -> str:
    return m.lastgroup.split("__", 1)[0] if m.lastgroup else ""


# Forms whose grammatical subject *undergoes* the action when a form of "be" precedes them.
PARTICIPLES = re.compile(
    r"(?:captured|seized|taken|liberated|recaptured|retaken|regained|overrun|cleared|secured|conquered|"
    r"held|controlled|occupied|dominated|retained|defended|encircled|besieged|surrounded|cut\s+off|blockaded|"
    r"trapped|isolated|shelled|bombed|bombarded|targeted|hit|struck|attacked|raided|stormed|assaulted|"
    r"contested|disputed|evacuated|abandoned|lost|handed\s+over|ambushed|entered|reached|approached|breached)$",
    re.IGNORECASE,
)
BE_BEFORE = re.compile(
    r"(?:\b(?:was|were|been|is|are|being|be|got|gets|get|remains?|remained)\s+(?:\w+ly\s+|still\s+|now\s+|also\s+|not\s+|reportedly\s+){0,3})$",
    re.IGNORECASE,
)
# After a trigger: the agent of a passive / nominal ("by the SDF", "to ISIS", "of the SDF").
AGENT_AFTER = re.compile(r"^\s*(?:,\s*)?(?:by|to|of|into\s+the\s+hands\s+of)\s+(?:the\s+)?(?:\w+\s+){0,2}?(" + MASK + r"+)")

# --------------------------------------------------------------------------------------------
# Modality
# --------------------------------------------------------------------------------------------
EXPECTED_CUE = re.compile(
    r"\b(?:will|would|'ll|shall|expected|expects?|expecting|plan(?:s|ned|ning)?|aim(?:s|ed|ing)?|intend(?:s|ed|ing)?|"
    r"prepar(?:e|es|ed|ing)\s+(?:to|for)|set\s+to|going\s+to|likely|could|(?-i:may)(?!\s+\d)|might|should|must|"
    r"if|unless|once|as\s+soon\s+as|in\s+case|threaten(?:s|ed|ing)?\s+to|ready\s+to|readiness|hop(?:e|es|ed|ing)\s+to|"
    r"goal|objective|aims|in\s+order\s+to|seek(?:s|ing)?\s+to|sought\s+to|want(?:s|ed)?\s+to|would-be|"
    r"soon|next\s+(?:week|month|target|step)|upcoming|future|imminent|potential|possible|possibly)\b",
    re.IGNORECASE,
)
# "attempts to take X", "trying to capture X": an ongoing push, i.e. an advance on X.
ATTEMPT_CUE = re.compile(
    r"\b(?:attempts?|attempting|attempted|trying|tries|tried|efforts?|bid|struggl(?:e|es|ing)|push|drive|campaign|battle|"
    r"fight(?:ing)?|offensives?|operations?|assaults?|counter-?offensives?|counter-?attacks?)\s+to\s+(?:\w+\s+)?$",
    re.IGNORECASE,
)
INFINITIVE_TO = re.compile(r"\bto\s+(?:\w+ly\s+)?(?:\w+\s+and\s+)?$", re.IGNORECASE)
# Verbs after which "to <trigger>" is a fact, not a plan.
FACTUAL_TO = re.compile(
    r"\b(?:managed|manages|manage|able|succeeded|succeeds|continued|continues|continue|continuing|began|begun|begins|"
    r"started|starts|helped|went\s+on|proceeded|used|addition|prior|due|thanks|owing|response|close|next|similar|"
    r"contrary|according|back|return|up)\s+to\s+(?:\w+ly\s+)?(?:\w+\s+and\s+)?$",
    re.IGNORECASE,
)
CLAIMED_CUE = re.compile(
    r"\b(?:claim(?:s|ed|ing)?|reportedly|reports?\s+(?:have\s+|had\s+)?(?:suggested|said|indicated|say|suggest)|"
    r"rumou?rs?|rumou?red|allegedly|alleged|purportedly|unconfirmed|said\s+to|is\s+said|are\s+said|"
    r"(?:was|were|been|being)\s+reported|declared|proclaimed)\b",
    re.IGNORECASE,
)
# Attribution: "X said", "according to X". A claim when X is a party to the fighting.
SPEECH_VERB = re.compile(r"\b(?:said|says|reported|reports|claimed|claims|announced|announces|stated|added|confirmed)\b",
                         re.IGNORECASE)
ACCORDING_TO = re.compile(r"\b(?:according\s+to|citing|told)\s+", re.IGNORECASE)
BELLIGERENT = re.compile(
    r"" + MASK + r"|\b(?:commanders?|ministry|minister|spokes(?:man|person|woman)|army|military|militants?|rebels?|"
    r"opposition|government|regime|state\s+media|state\s+television|sana|amaq|officials?|forces|fighters|group|"
    r"media\s+(?:office|center|centre|wing)|propaganda|statement|militia|"
    r"hezbollah|kremlin|pentagon|cjtf|centcom|coalition)\b",
    re.IGNORECASE,
)
NEGATED_CUE = re.compile(
    r"(?:\b(?:not|never|no\s+longer|failed\s+to|fail(?:s|ing)?\s+to|unable\s+to|den(?:y|ies|ied|ying)|refut(?:e|es|ed)|"
    r"without|neither|nor|no)\b|n't\b)",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------------------------
# Places: syntax, not a gazetteer
# --------------------------------------------------------------------------------------------
PARTICLE = r"(?:al|el|ad|ash|as|at|az|ar|an|adh|ath|ed|es|et|er|ez|ul|um|umm|bin|ibn|abu|bani|beni|de|di|du|la|le|Al|El|Ad|As|Ash|Az|Ar|At|An)"
_CAP = r"[A-Z][\w'’]*(?:-[\w'’]+)*"
_TOK = rf"(?:{_CAP}|{PARTICLE}[-‐][\w'’]+(?:-[\w'’]+)*|{PARTICLE}(?=[ \t]+[A-Z]))"
FEATURE_WORDS = (
    r"oil\s+fields?|gas\s+fields?|oilfields?|gasfields?|pumping\s+station|power\s+station|power\s+plant|"
    r"(?:military\s+)?air\s?base|airport|airfield|dam|bridge|(?:border\s+)?crossing|neighbou?rhoods?|district|"
    r"quarter|village|town|city|camp|hills?|mountains?|mount|industrial\s+(?:area|zone|city)|area|checkpoint|"
    r"base|highway|road|square|roundabout|factory|station|hospital|prison|island|junction|crossroads|valley|"
    r"plain|pocket|enclave|countryside|axis|front|region|province|governorate|suburbs?|desert|farms|silos?|"
    r"plant|refinery|complex|barracks|depot|outpost|gate|school|mosque|stadium|university|bank|river|lake|"
    r"basin|heights|ridge|hilltop|canal|district|(?:military\s+|artillery\s+)?(?:academy|academies|college)|"
    r"(?:security\s+)?zone|headquarters|garrison|(?:housing\s+)?district|(?:vehicle\s+|military\s+)?base|"
    r"(?:volcanic\s+)?field|clock\s+tower"
)
# A run of name tokens, then optional lowercase feature words ("Jubaliyah neighborhood",
# "South Kashmah oil field", "T2 pumping station", "Hajin pocket area").
PLACE = re.compile(
    rf"(?<![\w'’§-])(?P<name>{_TOK}(?:[ \t]+(?:{_TOK}|\d{{1,4}}(?=[ \t]+(?:{_TOK}|(?:{FEATURE_WORDS})\b)))){{0,5}})(?P<feature>(?:[ \t]+(?:{FEATURE_WORDS})){{0,2}})(?![\w-])"
)
# Capitalised words that start sentences, name people's roles, months, nationalities...: never
# the first word of a place name (they are dropped from the front of a match).
STOP_FIRST = frozenset("""
the a an on in at of to for by from with and or but if as after before while during since until though although
however meanwhile now soon thus also later earlier late early mid this that these those it its he she they we
there here then when where which who what why how some many several both all other most last next first second
third one two three four five six seven eight nine ten according local figure map reports report sources source
among unlike based located despite following amid around near over under about between into onto within without
yesterday today tonight monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec syrian syria's
iraqi iranian russian turkish kurdish arab arabs american israeli lebanese jordanian afghan afghani western
eastern northern southern central western soviet us u.s. un u.n. isis is sdf saa mr ms dr gen general colonel
commander leader president minister spokesman spokesperson analyst analysts photo video update updates breaking
developments development situation reconciliation opposition government regime pro-government islamic state
further additionally moreover furthermore indeed still so yet just only even another each every no not
such more less much very new old big small large great major minor key strategic important heavy intense fierce
tu su mig
""".split())
# Whole matches that are never places on their own.
NOT_PLACE = frozenset("""
amaq news agency sana sohr reuters afp ap tass ria novosti southfront al-masdar isw carter center sputnik rt
russia's god allah christmas ramadan eid internet facebook twitter telegram youtube
""".split())
_NAT = (r"(?:Syrian|Iraqi|Iranian|Russian|Turkish|Kurdish|Arab|American|Israeli|Lebanese|Jordanian|Afghani?|Soviet|"
        r"Western|Saudi|Qatari|Emirati|French|British|US|U\.S\.|UN)")
NATIONALITY = re.compile(r"^" + _NAT + r"(?:-" + _NAT + r")*$")

# Anaphora: "the town", "the border city", "the opposition-held pocket", "there".
ANAPHORA = re.compile(
    r"(?<![\w-])(?:the|this|that)\s+(?:(?:border|nearby|strategic|key|besieged|embattled|whole|entire|same|"
    r"small|large|desert|northern|southern|eastern|western|central|" + MASK + r"+-\w+|\w+-held|\w+-controlled)\s+)?"
    r"(?P<kind>city|town|village|neighbou?rhood|district|airbase|air\s+base|base|pocket|camp|area|field|oil\s+field|"
    r"enclave|settlement|locality|hill|hilltop|dam|airport|garrison|crossing|base|academy|compound)(?!\s+of\b)(?![\w-])|"
    r"(?<![\w-])(?P<there>there|both\s+(?:towns|villages|cities|places|areas|neighbou?rhoods)|the\s+two\s+(?:towns|villages|cities)|"
    r"these\s+(?:towns|villages|areas|positions)|the\s+(?:towns|villages)(?!\s+of)|"
    r"its\s+(?:(?:north|south|east|west)(?:-?(?:east|west))?(?:ern)?\s+|central\s+)?(?:centre|center|outskirts|districts|neighbou?rhoods|"
    r"parts?|edges?|quarters|suburbs|countryside|half|heart))(?![\w-])",
    re.IGNORECASE,
)
SETTLEMENT_KINDS = ("city", "town", "village", "")

# --------------------------------------------------------------------------------------------
# Gaps between a trigger and its places
# --------------------------------------------------------------------------------------------
DIRS = {"north": 0.0, "northeast": 45.0, "north-east": 45.0, "east": 90.0, "southeast": 135.0, "south-east": 135.0,
        "south": 180.0, "southwest": 225.0, "south-west": 225.0, "west": 270.0, "northwest": 315.0,
        "north-west": 315.0, "ne": 45.0, "nw": 315.0, "se": 135.0, "sw": 225.0, "n": 0.0, "s": 180.0, "e": 90.0,
        "w": 270.0}
DIR = r"(?:north|south)(?:-?(?:east|west))?|east|west"
DIR_ADJ = r"(?:north|south)(?:-?(?:east|west))?(?:ern)?|eastern|western|east|west|northern|southern|central"

OFFSET_TAIL = re.compile(
    r"(?P<q>up\s+to|about|approximately|approx\.?|around|some|nearly|almost|roughly|over|more\s+than|less\s+than|"
    r"at\s+least|within|just)?\s*(?P<n>\d+(?:\.\d+)?)\s*-?\s*(?P<u>km|kms|kilometers|kilometres|kilometer|kilometre|"
    r"miles|mi|meters|metres|m)\b\.?\s*(?:to\s+the\s+)?(?P<dir>" + DIR + r"|NE|NW|SE|SW|N|S|E|W)?\s*(?P<prep>of|from)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
DIR_OF_TAIL = re.compile(
    r"(?:(?:to|on)\s+the\s+)?(?P<dirs>(?:" + DIR + r")(?:\s*,\s*(?:and\s+)?(?:" + DIR + r")|\s+and\s+(?:" + DIR + r"))*)\s+of\s+(?:the\s+)?$",
    re.IGNORECASE,
)
PART_TAIL = re.compile(
    r"(?:the\s+)?(?P<dir>" + DIR_ADJ + r")\s+(?:part|parts|side|sides|half|section|sections|sector|districts|"
    r"neighbou?rhoods|quarters|areas|countryside|suburbs|outskirts|edges|flank|portion|reaches)\s+of\s+(?:the\s+)?$|"
    r"(?P<dir2>(?:north|south)(?:-?(?:east|west))?ern|eastern|western|northern|southern)\s+$",
    re.IGNORECASE,
)
BANK_TAIL = re.compile(r"(?P<dir>east|west|eastern|western|left|right)\s+banks?\s+of\s+(?:the\s+)?(?:river\s+)?$", re.IGNORECASE)
NEAR_TAIL = re.compile(
    r"(?:\b(?:near|nearby|around|outside|close\s+to|next\s+to|by|surroundings\s+of|vicinity\s+of|outskirts\s+of|"
    r"edges?\s+of|environs\s+of|gates\s+of|approaches\s+to|doorstep\s+of|frontlines?\s+(?:of|near|around)|"
    r"perimeter\s+of|closer\s+to|towards?|on)\s+(?:the\s+)?)$",
    re.IGNORECASE,
)
PARTIAL_TAIL = re.compile(
    r"\b(?:half|parts?|most|much|portions?|sections?|some|large\s+parts|areas|swathes?|\d+\s*(?:%|percent))\s+of\s+(?:the\s+)?$|"
    r"\bpartially\s+$",
    re.IGNORECASE,
)
BETWEEN_TAIL = re.compile(r"\bbetween\s+(?:the\s+)?$", re.IGNORECASE)
ORIGIN_TAIL = re.compile(r"\bfrom\s+(?:the\s+)?$", re.IGNORECASE)
TARGET_TAIL = re.compile(r"\b(?:towards?|to|in\s+the\s+direction\s+of)\s+(?:the\s+)?$", re.IGNORECASE)

# Words that may stand between a trigger and its place(s) without breaking the link.
GAP_WORDS = frozenset("""
the a an of and or in into inside near nearby around at on onto over to towards toward up deeper further closer back
from within across along through by out off also entirely fully completely partially largely mostly all entire whole
rest remaining remnants remainder most half parts part much portions portion section sections some several many few
two three four five six seven eight nine ten dozen dozens number handful series string chain cluster new more other
another last key strategic nearby border small large major important main vital northern southern eastern western
central north south east west northeast northwest southeast southwest north-east north-west south-east south-west
northeastern northwestern southeastern southwestern outskirts edges edge vicinity environs gates surroundings
positions position points point hills hill hilltop hilltops heights farms farm checkpoints checkpoint sites site
territory territories countryside control areas area villages village towns town cities city neighbourhood
neighbourhoods neighborhood neighborhoods district districts quarter quarters settlements settlement hamlets
localities locality suburb suburbs oil gas field fields oilfield oilfields bank banks side sides sector sectors axis
front fronts frontline frontlines lines line highway road roads base bases airbase airport camp camps pocket enclave
zone industrial region desert mountain mountains valley plain plains km kms kilometers kilometres kilometer kilometre
miles approximately about nearly almost roughly just only even itself themselves percent between with previously
formerly once still now again finally successfully quickly rapidly gradually reportedly allegedly recently today
yesterday ground grip grasp hold full complete total effective large-scale further strategic long-held
frontier frontiers flank flanks crossing crossings stretch stretches swathes swathe reaches tracts tract part
than old centre center heart middle its their road roads route routes supply lines linking connecting leading
areas adjacent remaining surrounding nearby various dozens entrance entrances junctions including such namely
notably especially close
""".split())
RIVERS = frozenset("euphrates tigris khabur orontes balikh yarmouk sajur afrin-river jaghjagh".split())
# Gap words allowed only for attack/contest (which target installations inside places) and
# lowercase heads of list items: never break a list.
LOCATIVE_END = re.compile(r"\b(?:in|near|at|around|outside|inside|on|across|along|of|targeting|between|against|east\s+of|west\s+of|"
                          r"north\s+of|south\s+of)\s+(?:the\s+)?$", re.IGNORECASE)
FEATURE_HEAD = re.compile(r"\b(?:" + FEATURE_WORDS + r"|park|compound|building|buildings|facility|facilities|"
                          r"positions|market|square|institute|college|street|hospital|headquarters|hq|garrison|zone|"
                          r"convoy|targets|depots?|warehouse|academy|academies)\s*$", re.IGNORECASE)

# --------------------------------------------------------------------------------------------
# Clause boundaries: where an object span stops
# --------------------------------------------------------------------------------------------
BOUNDARY = re.compile(
    r"[;:\[\]\"“”]|\((?!\s*" + MASK + r"+\s*\))|(?<!" + MASK + r")\)|\s[–—-]\s|\s[–—]|[–—]\s|"
    r",\s*(?=(?:which|who|whom|whose|where|while|whereas|but|although|though|as|when|after|before|killing|leaving|"
    r"forcing|engaging|according|bringing|making|giving|in\s+addition|amid|despite|with|and\s+(?:is|are|was|were|has|have|had|"
    r"will|would|then|the\s+\w+\s+(?:is|are|was|were|has|have|had|will))\b|" + MASK + r"))|"
    r"\b(?:which|who|whom|whose|where|while|whereas|but|although|though|because|amid|despite|killing|leaving|forcing|"
    r"engaging|according|unless|if|so\s+that|in\s+order|allowing|enabling|resulting|splitting|ending|breaking|reversing|"
    r"(?:after|before)(?!\s+(?:dawn|noon|midday|midnight|sunrise|sunset|daybreak|nightfall|the\s+end))|since|until|"
    r"bringing|vowing|adding|saying)\b|"
    r",\s+(?:the\s+|a\s+|an\s+)?(?:[\w§'’-]+\s+){0,4}?(?:said|says|reported|reports|told|claimed|claims|announced|added|stated|confirmed|denied)\b|"
    r",\s+(?=(?!including\b|during\b|notably\b)[a-z]+ing\b)|\bas\s+(?=(?:the\s+)?" + MASK + r")|"
    r"\bthat\b(?!\s+(?:it|they|he|she|the\s+group|" + MASK + r"+|\w+)\s+(?:had\s+)?(?:been\s+)?(?:controlling|controlled|held|holding|captured|seized|occupied))",
    re.IGNORECASE,
)
BOUNDARY_LOWER = re.compile(BOUNDARY.pattern)
SKIPPABLE_RELATIVE = re.compile(
    r"\b(?:territory|territories|area|areas|land|lands|part|parts|positions|villages|towns|zone|zones|districts|"
    r"neighbourhoods|neighborhoods)\s(?P<rel>(?:(?:that|which)\s+)?"
    r"(?:it|they|he|she|the\s+group|" + MASK + r"+|\w+)\s+(?:had\s+|has\s+|have\s+|still\s+|once\s+|previously\s+)?(?:been\s+)?"
    r"(?:controlling|controlled|held|holding|captured|seized|occupied)\s+)", re.IGNORECASE)

# Adjectives of control: "ISIS-held", "SDF-controlled", "regime-besieged".
HELD = re.compile(
    r"(?<![\w-])(?P<who>[A-Z][\w'’.]*(?:/[A-Z][\w'’]*)?|government|regime|opposition|rebel|jihadist|militant|"
    r"insurgent|Kurdish|Turkish|Islamist|loyalist)-(?P<how>held|controlled|occupied|besieged|encircled|dominated)(?![\w-])",
)
OF_CONTROL = re.compile(r"\s+of\s+(?:the\s+)?(?P<who>" + MASK + r"+|\w+)\s+control\b", re.IGNORECASE)
UNDER_CONTROL_AFTER = re.compile(
    r"^\s*(?:remains?|remained|is|are|was|were|has\s+been|have\s+been|had\s+been|stays?|stayed)?\s*(?:still\s+|now\s+|firmly\s+|largely\s+)?"
    r"(?P<neg>outside\s+(?:of\s+)?|beyond\s+)?(?:under\s+|in\s+)?(?:the\s+)?(?:full\s+|firm\s+)?(?P<who>" + MASK + r"+|government|regime|opposition|rebel)\s+control\b",
    re.IGNORECASE,
)

# Context hints: governorates, provinces, countryside names.
HINT_KEY = re.compile(r"governorate|province|countryside|district|region|desert")
CONTEXT_HINT = re.compile(
    r"(?:(?:north|south|east|west|northeast|northwest|southeast|southwest)(?:ern)?\s+|central\s+)?"
    r"(?P<name>[A-Z][\w'’]*(?:[- ](?:(?:ez|az|al|el|ar|as|ad|ash)-)?[A-Z][\w'’]*){0,2})\s+"
    r"(?P<kind>(?i:governorate|province|countryside|district|region|desert))\b|"
    r"(?i:governorate|province)\s+of\s+(?P<name2>[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?)",
)
