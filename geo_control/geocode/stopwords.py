"""Capitalised words of conflict reporting that are not place names.

A gazetteer of 17,000 villages has a village for almost every short word ("Syrian" is close
to Sirrin, "Iraqi" to al-Iraqi, "Sin" exists): when the text's own places are collected as
context, these words are skipped. Lower-cased; compared against each capitalised token.
"""

STOPWORDS = frozenset("""
a about above according across after afterwards again against all along also although amid among and
another any around away back because been before behind below beside besides between both but by
despite down during each earlier early east eastern either else elsewhere even ever every few following for
former from further furthermore had has have he her here hers his however if in inside into is it its
last late later latter least less many may meanwhile more moreover most much near nearby neither never
nevertheless next no nor north northern not now of off on once one only onto or other others otherwise our
out outside over overnight per previously recently since so some south southern still such than that the
their them then there thereafter therefore these they this those though through throughout thus to today
tonight too toward towards under until up upon us very via was we west western what when where whereas
whether which while who whom whose why will with within without yesterday yet
monday tuesday wednesday thursday friday saturday sunday
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
syria syrian syrians iraq iraqi iraqis turkey turkish turks turk russia russian russians iran iranian iranians
lebanon lebanese jordan jordanian israel israeli israelis america american americans us usa u.s. uk british
france french german germany kurd kurds kurdish arab arabs arabic afghan afghani afghanis pakistani
palestinian palestinians shia shiite sunni alawite druze christian christians assyrian turkmen circassian
chechen european europe western eastern middle
isis isil is daesh hts sdf saa ypg ypj fsa ndf ndz pmu pmf imu nusra qsd sna tfsa irgc
army forces force troops militia militias militants militant fighters fighter rebels rebel rebellion regime
government pro loyalist loyalists opposition coalition alliance brigade brigades battalion battalions
division divisions regiment corps unit units group groups faction factions guard guards tiger tigers
hezbollah nujaba fatemiyoun zainabiyoun ahrar sham jaish jaysh tahrir nusra islamic state democratic
council command operations operation center centre ministry minister president defense defence
national liberation front free syrian arab republic republican special desert hawks shield euphrates
olive branch peace spring dawn freedom sons tribe tribes tribal clan clans elite
russia's syria's isis's us-led us-backed turkish-backed iranian-backed russian-backed
red cross crescent united nations un ocha unhcr who icrc sarc white helmets
figure map table source sources report reports reported update updates summary weekly daily war news
analysis note notes comments comment photo video reuters ap afp sana sohr anha smart enab baladi
mr mrs general gen col colonel maj major lt brig commander leader chief sheikh shaikh emir
airstrike airstrikes strike strikes shelling clashes clash attack attacks offensive counteroffensive
advance advances capture captured control controlled siege besieged ceasefire truce agreement deal talks
heavy light local several humanitarian
highway road route bridge dam river valley mountain mountains hill hills plain desert countryside city
town village villages district districts neighbourhood neighborhood area areas region governorate province
border crossing camp base airbase airport field fields station pocket frontline frontlines front
""".split())

#: Common nouns of places inside towns: a mention made only of these ("the central park area",
#: "the school of law") names no gazetteer place, however close "park" is to Barak.
GENERIC = frozenset("""
park garden gardens school schools law education faculty college university hospital clinic square
market souk factory factories plant mill silo silos stadium mosque church building buildings tower
towers roundabout junction intersection crossroads checkpoint headquarters hq palace court prison
cemetery graveyard station port harbour harbor farm farms orchard orchards quarry warehouse
warehouses depot barracks academy institute company office offices hotel club house houses street
streets avenue center centre central main old new grand big small great upper lower of the and
area areas zone zones sector sectors part parts side outskirts edge edges
""".split())
