"""Names: singular snake_case identifiers, plurals, labels, and the safe-rename rules."""

from __future__ import annotations

import hashlib
import keyword
import re
from functools import cache

import inflect

from mb_core.spec.vocabulary import table, words

_inflect = inflect.engine()

# Words inflect would wrongly singularise ("focus" -> "focu") or that have no plural in use.
_UNCOUNTABLE = frozenset({
    "data", "information", "media", "software", "hardware", "equipment", "feedback",
    "attendance", "progress", "news", "sleep", "training", "water", "coffee", "stress", "energy", "inventory",
    "furniture", "luggage", "staff", "series", "species", "analytics", "physics", "maths",
    "mathematics", "economics", "ethics", "logistics", "alcohol", "caffeine", "intake", "mood", "money", "income", "weather", "wellness",
    "health", "fitness", "nutrition", "maintenance", "access", "stock", "sms", "gps", "os",
    "merchandise", "livestock", "machinery", "clothing", "jewellery", "jewelry", "baggage",
    "personnel", "footage", "research", "advice", "evidence", "knowledge", "aircraft",
    "premises", "headquarters", "sheep", "deer",
})
# Plurals inflect reads wrongly for business records: Latin and Greek plurals, and "leaves",
# which in a business app are leaves of absence, not a tree's
_IRREGULAR = {
    "criteria": "criterion", "phenomena": "phenomenon", "curricula": "curriculum",
    "memoranda": "memorandum", "addenda": "addendum", "bacteria": "bacterium",
    "indices": "index", "appendices": "appendix", "matrices": "matrix", "vertices": "vertex",
    "theses": "thesis", "diagnoses": "diagnosis", "prognoses": "prognosis", "crises": "crisis",
    "hypotheses": "hypothesis", "syllabi": "syllabus", "alumni": "alumnus", "stimuli": "stimulus",
    "fungi": "fungus", "cacti": "cactus", "nuclei": "nucleus", "leaves": "leave",
}
_KEEP_ENDINGS = ("ss", "us", "is", "sis")
# fields of knowledge, which are singular though they end like a plural ("topics", "clinics" are not)
_DISCIPLINES = frozenset({
    "politics", "statistics", "athletics", "electronics", "genetics", "robotics", "linguistics",
    "acoustics", "aerobics", "gymnastics", "optics", "aeronautics", "informatics", "mechanics",
    "dynamics", "ergonomics", "semantics", "phonetics", "forensics", "metaphysics", "tactics",
    "graphics", "diagnostics", "cosmetics", "electrics", "hydraulics", "pneumatics", "ceramics",
})
# Nouns ending in -u, whose plurals end in -us like the Latin singulars kept above (status, bonus)
_U_NOUNS = frozenset({"menu", "guru", "emu", "tofu", "haiku", "tutu", "gnu", "bayou", "sudoku",
                      "tiramisu", "kudzu", "caribou", "bijou", "zebu"})


@cache
def singular(word: str) -> str:
    """`contacts` -> `contact`, `people` -> `person`, `statuses` -> `status`; the last word of a
    multi-word name only."""
    head, _, last = word.rpartition("_")
    lowered = last.lower()
    if lowered in _IRREGULAR:
        one = _IRREGULAR[lowered]
    elif re.fullmatch(r"[A-Z]{2,}s", last) or lowered.endswith("us") and lowered[:-1] in _U_NOUNS:  # acronyms: SKUs, VMs
        one = lowered[:-1]
    elif lowered in _UNCOUNTABLE or lowered in _DISCIPLINES or lowered.endswith(
            _KEEP_ENDINGS) and not lowered.endswith("uses") \
            or len(lowered) <= 3 and not lowered.endswith("s"):
        one = lowered
    else:
        one = _inflect.singular_noun(lowered) or lowered
        if one.endswith(("ss", "us")) and one != lowered and not lowered.endswith("es"):
            one = lowered
    return f"{head}_{one}" if head else one


@cache
def plural(name: str) -> str:
    head, _, last = name.rpartition("_")
    many = last if last in _UNCOUNTABLE else _inflect.plural_noun(last)
    if last in _UNCOUNTABLE and not head:
        many = f"{last}_records"
    return f"{head}_{many}" if head else many


def snake(text: str) -> str:
    """`Reading status` -> `reading_status`; anything not a letter or digit separates words."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text.strip())
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    if text and text[0].isdigit():
        text = f"n_{text}"
    return text


def with_article(noun: str) -> str:
    """`order` -> `an order`, `deal` -> `a deal` (by the first letter, as the summaries need)."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def label(name: str) -> str:
    """`line_item` -> `Line item`."""
    return name.replace("_", " ").capitalize()


# The generator's limit on a name (mb_core.codegen.naming.MAX_NAME). An entity's name leaves room
# for what is made from it: its plural ("_records") and its foreign key ("_id").
MAX_FIELD_NAME = 40
MAX_ENTITY_NAME = 32


def shortened(name: str, limit: int) -> str:
    """`name` if it fits, else its last words behind a tag made from the whole name: the head word
    (which says the type: "..._amount") stays, and two long names never shorten alike.

    `estimated_international_shipping_insurance_coverage_amount` ->
    `e7d2f_shipping_insurance_coverage_amount`.
    """
    if len(name) <= limit:
        return name
    tag = name[0] + hashlib.sha256(name.encode("utf-8")).hexdigest()[:4]
    kept: list[str] = []
    for word in reversed(name.split("_")):
        if len(tag) + 1 + len("_".join([word, *kept])) > limit:
            break
        kept.insert(0, word)
    if not kept:  # one word longer than the limit
        return f"{name[:limit - len(tag) - 1]}_{tag}"
    return "_".join([tag, *kept])


def safe_entity_name(name: str) -> str:
    """Rename names that collide with Python keywords or the generated app's own modules
    (vocabulary.yaml, reserved_names), and shorten those too long for the generator."""
    renamed = table("reserved_names").get(name, name)
    if keyword.iskeyword(renamed):
        renamed = f"{renamed}_item"
    return shortened(renamed, MAX_ENTITY_NAME)


def spoken_name(name: str) -> str:
    """The word of the text a reserved rename stands for: `work_session` -> `session`; other names
    as they are. The requirements speak the text's words, the generated code the safe ones."""
    for word, renamed in table("reserved_names").items():
        if renamed == name and word == singular(word):
            return word
    return name


def safe_field_name(name: str) -> str:
    renamed = table("reserved_fields").get(name, name)
    if keyword.iskeyword(renamed):
        renamed = f"{renamed}_value"
    return shortened(renamed, MAX_FIELD_NAME)


def app_name_from(title: str) -> str:
    """A short python-safe identifier: at most three words of the title."""
    parts = [p for p in snake(title).split("_") if p and p not in words("determiners")][:3]
    name = "_".join(parts) or "app"
    if keyword.iskeyword(name) or not name[0].isalpha():
        name = f"app_{name}"
    return name[:40].strip("_")
