"""Simple stories over a controlled vocabulary, for small speech LMs.

Each story follows a fixed arc (a hero, a place, a found object, a friend, an
ending) filled from small word lists, so its content words recur within the
story and across the corpus. Stories are deterministic for ``(seed, story index)``
and sentences keep document order: ``doc_id`` is the story id and ``index`` the
sentence's position in it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from spokenlm.data.text_item import TextItem

HE_NAMES = "Ben Max Sam Tom Leo Jack Noah Finn Owen Hugo Paul Dan Luke Eli Mark Tim Jake Adam Oscar Peter Carl Fred Henry Ivan".split()
SHE_NAMES = "Anna Lily Mia Emma Lucy Rosa Ella Ruby Nora Kate Ivy Zoe Jane Amy Sara Grace Molly Clara Julia Alice Hannah Laura Nina Olive".split()
CREATURES = (
    "cat dog bird fish frog duck bear fox rabbit mouse horse cow pig sheep goat owl lion tiger monkey turtle snake "
    "bee deer wolf hen goose puppy kitten squirrel elephant whale dolphin crab spider butterfly camel zebra panda donkey "
    "boy girl baker farmer teacher doctor king queen child sailor painter"
).split()
IRREGULAR_PLURALS = {"mouse": "mice", "fish": "fish", "sheep": "sheep", "goose": "geese", "deer": "deer", "wolf": "wolves",
                     "child": "children", "leaf": "leaves", "knife": "knives", "bread": "bread", "rice": "rice",
                     "popcorn": "popcorn", "toast": "toast", "candy": "candies", "blocks": "blocks"}
PLACES = (
    "park garden forest river lake beach hill farm village town school kitchen market shop library field road bridge "
    "castle cave island mountain pond street yard barn zoo station city valley meadow harbor tower playground bakery "
    "orchard jungle desert camp museum hospital church pool garage attic cellar shore lighthouse farmhouse "
    "greenhouse stable fountain square corner tunnel swamp canyon waterfall"
).split()
HOMES = "house cottage hut tent nest cabin tree house boat flat den burrow".split()
OBJECTS = (
    "ball box cake apple book hat kite boat key map cup bag bell bread basket blanket bottle bucket candle chair coat "
    "cookie crown drum egg flower gift hammer jar kettle ladder lamp letter net orange pan pencil pie plate pot ring "
    "rope seed shell shoe sock spoon stick stone string toy umbrella wagon watch wheel carrot leaf feather card clock "
    "bowl brush button coin doll fork lemon mirror pear picture pillow plant pumpkin rock sandwich scarf star tent "
    "ticket train truck bike balloon whistle puzzle robot shovel bench blocks crayon marble sled swing rocket "
    "necklace bracelet flag guitar violin trumpet piano compass lantern telescope camera radio bottle cap treasure "
    "chest paddle oar tire saddle broom mop towel soap comb backpack notebook envelope stamp ribbon bow arrow "
    "shield sword helmet wand feather pen"
).split()
ADJECTIVES = (
    "big small little old new red blue green yellow brown white black kind brave tiny huge soft hard warm cold bright "
    "dark quiet loud fast slow tall short funny clever shiny round heavy light sweet clean dirty wet dry lucky pretty "
    "strange gentle friendly silly careful curious beautiful golden wooden empty full lost purple pink striped spotted "
    "orange grey smooth rough sharp fluffy sticky noisy tidy messy fancy plain rusty shiny broken famous secret "
    "magic tired young wise busy rich poor strong weak deep shallow narrow wide thick thin bumpy cozy muddy sandy "
    "snowy windy sunny cloudy foggy icy hot fresh crunchy juicy salty spicy"
).split()
FOODS = (
    "apple bread cake cheese cookie soup rice pie grape plum berry pizza pasta salad sandwich muffin pancake noodle "
    "bean potato tomato pea onion nut candy popcorn toast carrot banana pear orange lemon cherry peach melon "
    "cupcake biscuit pretzel"
).split()
DRINKS = "milk juice tea water cocoa lemonade".split()
CLOTHES = "hat coat scarf boots dress shirt jacket gloves socks shoes sweater cap belt mittens raincoat".split()
ADVERBS = "quickly slowly quietly happily carefully loudly gently sadly softly bravely proudly sleepily".split()
FEELINGS = "happy sad proud tired scared excited surprised glad calm worried sleepy hungry lonely thankful".split()
# (base, past) of verbs that take an object.
ACTIONS = [
    ("find", "found"), ("take", "took"), ("make", "made"), ("bring", "brought"), ("carry", "carried"),
    ("open", "opened"), ("watch", "watched"), ("paint", "painted"), ("build", "built"), ("clean", "cleaned"),
    ("draw", "drew"), ("fix", "fixed"), ("hide", "hid"), ("hold", "held"), ("kick", "kicked"), ("lift", "lifted"),
    ("move", "moved"), ("pick up", "picked up"), ("pull", "pulled"), ("push", "pushed"), ("share", "shared"),
    ("throw", "threw"), ("wash", "washed"), ("fill", "filled"), ("drop", "dropped"), ("catch", "caught"),
    ("buy", "bought"), ("follow", "followed"), ("touch", "touched"), ("hug", "hugged"), ("show", "showed"),
    ("look for", "looked for"), ("give away", "gave away"), ("count", "counted"), ("cook", "cooked"),
    ("wrap", "wrapped"), ("polish", "polished"), ("borrow", "borrowed"), ("return", "returned"), ("sell", "sold"),
    ("paint", "painted"), ("measure", "measured"), ("weigh", "weighed"), ("guard", "guarded"), ("lose", "lost"),
    ("mend", "mended"), ("decorate", "decorated"), ("fold", "folded"), ("shake", "shook"), ("tie", "tied"),
]
# (base, past) of verbs without an object.
MOVES = [
    ("walk", "walked"), ("run", "ran"), ("jump", "jumped"), ("swim", "swam"), ("sing", "sang"), ("dance", "danced"),
    ("sleep", "slept"), ("laugh", "laughed"), ("sit", "sat"), ("wait", "waited"), ("rest", "rested"),
    ("smile", "smiled"), ("shout", "shouted"), ("play", "played"), ("climb", "climbed"), ("hop", "hopped"),
    ("skip", "skipped"), ("crawl", "crawled"), ("race", "raced"), ("wander", "wandered"), ("hurry", "hurried"),
    ("whistle", "whistled"), ("giggle", "giggled"), ("tiptoe", "tiptoed"), ("march", "marched"), ("float", "floated"),
    ("paddle", "paddled"), ("nap", "napped"), ("stretch", "stretched"), ("listen", "listened"), ("read", "read"),
]
# (base, past) of verbs about food.
MEALS = [("eat", "ate"), ("bake", "baked"), ("taste", "tasted"), ("share", "shared"), ("cook", "cooked"), ("wash", "washed")]
PREPOSITIONS = ["near", "under", "behind", "beside", "inside", "on top of", "next to", "in front of"]
TIMES = ["In the morning", "After lunch", "Later that day", "The next day", "That night", "In the evening", "Soon", "After a while"]
WEATHER = ["The sun was shining", "It started to rain", "The wind was blowing", "It began to snow", "The sky was grey"]
NUMBERS = "two three four five six seven eight nine ten".split()
FAMILY = "mother father sister brother grandmother grandfather aunt uncle cousin baby".split()
COUNTS = [*NUMBERS, "eleven", "twelve"]


@dataclass
class _Cast:
    hero: str
    pron: str
    poss: str
    kind: str
    friend: str
    friend_kind: str
    place: str
    home: str
    thing: str
    thing_adj: str
    action: tuple[str, str]


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def plural(word: str) -> str:
    """English plural of the nouns in these lists (``puppy`` → ``puppies``, ``box`` → ``boxes``)."""
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if word.endswith(("s", "sh", "ch", "x", "o")) and word not in ("piano", "radio"):
        return word + "es"
    if word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _middle(c: _Cast, r: random.Random) -> list[Callable[[], str]]:
    """Middle sentences, told after the hero has met the friend; closures over the cast (shuffled per story)."""
    return [
        lambda: f"{c.pron.capitalize()} wanted to {c.action[0]} the {c.thing}, but it was too {r.choice(ADJECTIVES)}.",
        lambda: f"{c.friend} said, let us {c.action[0]} the {c.thing} together.",
        lambda: f"Together they {c.action[1]} the {c.thing} and carried it to the {c.place}.",
        lambda: f"{r.choice(TIMES)}, {c.hero} and {c.friend} {r.choice(MOVES)[1]} {r.choice(PREPOSITIONS)} the {c.place}.",
        lambda: f"{r.choice(WEATHER)}, so they {r.choice(MOVES)[1]} under a {r.choice(ADJECTIVES)} tree.",
        lambda: f"They saw {r.choice(NUMBERS)} {plural(r.choice(CREATURES))} {r.choice(PREPOSITIONS)} the {r.choice(PLACES)}.",
        lambda: f"The {c.thing} was {c.thing_adj}, and {c.hero} felt {r.choice(FEELINGS)}.",
        lambda: f"{c.hero} showed the {c.thing} to {c.poss} {r.choice(FAMILY)}.",
        lambda: f"{c.hero} was hungry, so {c.pron} {r.choice(MEALS)[1]} {r.choice(COUNTS)} {plural(r.choice(FOODS))}.",
        lambda: f"{c.friend} brought some {r.choice(DRINKS)} and {_a(r.choice(FOODS))} for lunch.",
        lambda: f"{c.pron.capitalize()} put on {c.poss} {r.choice(ADJECTIVES)} {r.choice(CLOTHES)} and {r.choice(MOVES)[1]} {r.choice(ADVERBS)}.",
        lambda: f"They found {r.choice(COUNTS)} {r.choice(ADJECTIVES)} {plural(r.choice(OBJECTS))} in the {c.place}.",
        lambda: f"{c.friend} {r.choice(MOVES)[1]} {r.choice(ADVERBS)} to the {r.choice(PLACES)} to {r.choice(ACTIONS)[0]} {_a(r.choice(OBJECTS))}.",
    ]


def _draw_cast(r: random.Random) -> _Cast:
    he = r.random() < 0.5
    hero = r.choice(HE_NAMES if he else SHE_NAMES)
    friend = r.choice([n for n in HE_NAMES + SHE_NAMES if n != hero])
    return _Cast(
        hero, "he" if he else "she", "his" if he else "her", r.choice(CREATURES), friend, r.choice(CREATURES),
        r.choice(PLACES), r.choice(HOMES), r.choice(OBJECTS), r.choice(ADJECTIVES), r.choice(ACTIONS),
    )


def _story_random(story_index: int, seed: int) -> random.Random:
    return random.Random(f"stories:{seed}:{story_index}")


def story_questions(story_index: int, seed: int = 0) -> dict[int, tuple[str, str]]:
    """Questions about the fixed opening sentences of a story: sentence index → (question, one-word answer).

    Each answer is said in that sentence (``"What did Ben find?"`` → ``"ball"`` for sentence 3), and only the hero's
    name, never the answer, is in the question.
    """
    c = _draw_cast(_story_random(story_index, seed))
    return {
        0: (f"What kind of creature is {c.hero}?", c.kind),
        1: (f"What did {c.hero} live in?", c.home),
        2: (f"Where did {c.hero} like to go every day?", c.place),
        3: (f"What did {c.hero} find?", c.thing),
        4: (f"Who did {c.hero} ask for help?", c.friend),
    }


def story(story_index: int, seed: int = 0) -> list[str]:
    """The sentences of story number ``story_index`` (7 to 10 sentences), deterministic for ``seed``."""
    r = _story_random(story_index, seed)
    c = _draw_cast(r)
    middle = _middle(c, r)
    r.shuffle(middle)
    meet_friend = f"{c.hero} asked {c.poss} friend {c.friend}, the {r.choice(ADJECTIVES)} {c.friend_kind}, for help."
    sentences = [
        f"Once upon a time, there was {_a(r.choice(ADJECTIVES))} {c.kind} named {c.hero}.",
        f"{c.pron.capitalize()} lived in {_a(c.home)} near the {c.place} with {c.poss} {r.choice(FAMILY)}.",
        f"Every day, {c.hero} liked to {r.choice(MOVES)[0]} in the {c.place}.",
        f"One day, {c.hero} found {_a(c.thing_adj)} {c.thing} {r.choice(PREPOSITIONS)} the {c.place}.",
        meet_friend,
        *[make() for make in middle[: r.randint(1, 4)]],
        f"At the end of the day, {c.hero} was very {r.choice(FEELINGS)}.",
    ]
    return sentences


def generate_stories(num_stories: int, seed: int = 0) -> Iterator[TextItem]:
    """``num_stories`` stories as :class:`TextItem` in document order (ids ``story-00000-s00``)."""
    for i in range(num_stories):
        doc = f"story-{i:05d}"
        for j, text in enumerate(story(i, seed)):
            yield TextItem(f"{doc}-s{j:02d}", text, doc, j)


def vocabulary() -> set[str]:
    """Every word the generator can produce (lower case)."""
    pieces = [
        *HE_NAMES, *SHE_NAMES, *CREATURES, *map(plural, CREATURES), *PLACES, *HOMES, *OBJECTS, *map(plural, OBJECTS),
        *FOODS, *map(plural, FOODS), *DRINKS, *CLOTHES, *ADVERBS, *ADJECTIVES, *FEELINGS,
        *(w for pair in ACTIONS + MOVES + MEALS for w in pair), *PREPOSITIONS, *TIMES, *WEATHER, *NUMBERS, *COUNTS, *FAMILY,
        "once upon a an time there was named he she lived in near the with his her every day liked to one found "
        "wanted but it too asked friend for help said let us together they and saw so under tree felt showed at end of very "
        "hungry some brought lunch put on carried",
    ]
    return {w.lower().strip(",.") for piece in pieces for w in piece.split()}
