"""Field inference: a field name (and the entity it belongs to) -> a typed FieldSpec."""

from __future__ import annotations

import re

from mb_core.models import FieldSpec, FieldType
from mb_core.spec.naming import safe_field_name, singular, snake
from mb_core.spec.vocabulary import table, vocabulary, words

_MONEY = {"price", "amount", "cost", "total", "balance", "salary", "budget", "fee", "income",
          "expense", "revenue", "deposit", "payment", "subtotal", "tax", "discount", "wage",
          "spend", "spending", "fare", "rent", "profit", "converted_amount"}
_MEASURE = {"intake", "hours", "hour", "weight", "height", "distance", "duration", "minutes",
            "temperature", "mileage", "percentage", "percent", "calories", "volume", "length",
            "width", "depth", "latitude", "longitude", "sleep", "dosage_mg", "pace", "speed"}
# units of measure, which name a field in the plural ("the litres", "miles driven")
UNIT_PLURALS = frozenset({"litres", "liters", "gallons", "kilometres", "kilometers", "miles",
                          "metres", "meters", "kilograms", "grams", "pounds", "seconds",
                          "calories", "kilos"})
_MEASURE |= UNIT_PLURALS
_INTEGER = {"count", "quantity", "qty", "stock", "stock_level", "level", "age", "year",
            "rating", "score", "points", "capacity", "seats", "spots", "priority", "streak",
            "number_of", "size_bytes", "grade", "rank", "position", "floor", "minutes",
            "prep_minutes", "duration_minutes", "repetitions", "reps", "sets", "energy",
            "stress", "votes", "likes", "views", "attempts", "interval"}
_TEXT = {"notes", "note", "description", "details", "body", "content", "bio", "comment",
         "comments", "message", "instructions", "ingredients", "text", "summary", "quote",
         "caption", "review", "answer", "feedback", "cover_letter", "medical_notes", "remarks",
         "reason", "observations", "symptoms", "steps", "meanings", "readings", "question"}
_BOOLEAN_WORDS = {"done", "completed", "active", "paid", "archived", "enabled", "favorite",
                  "favourite", "published", "verified", "approved", "present", "attended",
                  "read", "visible", "pinned", "flagged", "available", "correct"}
_DATE_WORDS = {"date", "birthday", "due", "deadline", "expiry", "expiration", "day", "dob",
               "birth_date", "date_of_birth", "anniversary"}
_DATETIME_WORDS = {"time", "datetime", "timestamp", "at", "starts_at", "ends_at", "start",
                   "end", "start_time", "end_time", "scheduled_at"}
_TIME_POINT_MODIFIERS = {"start", "end", "due", "arrival", "departure", "pickup", "delivery",
                         "event", "meeting", "booking", "check_in", "checkin", "checkout",
                         "match", "appointment", "reminder", "alarm", "release", "closing"}
_UNIQUE = {"sku", "isbn", "code", "serial", "serial_number", "slug", "barcode", "number",
           "invoice_number", "order_number", "tracking_number", "plate_number", "ip_address",
           "username", "handle", "email"}
_SEARCHABLE = {"name", "title", "author", "genre", "category", "subject", "topic", "location",
               "city", "country", "company", "discipline", "tags", "brand", "species", "kind",
               "skill_level", "source", "industry", "specialty", "make", "model_name"}
_PII_WORDS = {"email", "phone", "birthday", "birth_date", "date_of_birth", "dob", "address",
              "home_address", "ssn", "social_security_number", "passport", "passport_number",
              "national_id", "medical_notes", "insurance_number", "salary", "mobile",
              "customer_name", "full_name", "first_name", "last_name"}
_HUMAN_FIELDS = ("name", "title", "label", "full_name", "customer_name", "front",
                 "description", "number", "ip_address", "mood")


# a date a record lapses at is its due date too: "expires_on", "expiry_date", "valid_until"
_LAPSES = ("expir", "expires", "valid_until", "valid_to", "valid_thru", "best_before", "use_by")


def is_due_field(name: str) -> bool:
    """A field whose date a record is due by ("due_date", "deadline", "return_due_date") or lapses
    at ("expiry_date", "valid_until"): what overdue (or expired) rows are measured against."""
    return name.startswith(("due", "deadline", *_LAPSES)) or name.endswith(
        ("due_date", "deadline", "expiry_date", "expiration_date", "expires_on", "expires_at",
         "valid_until"))

def status_states(entity: str, field_name: str = "status") -> list[str]:
    """Sensible states for a status field, from the field's own words or its entity."""
    states = table("status_states")
    if field_name == "stage":
        return list(vocabulary().raw["stage_states"])
    for word in field_name.split("_")[:-1] + [entity] + entity.split("_"):
        if word in states:
            return list(states[word])
    return list(states["default"])


_DETERMINER = re.compile(r"^(?:the|a|an|their|its|his|her|your|our|my|each|every)\s+")


def _names_whose(head: str, rest: str) -> bool:
    """ "X of Y" read as Y's X: a plural head is a measure in units ("hours of sleep" ->
    sleep_hours), and a determined Y is the thing that has it ("the name of the pet" ->
    pet_name). A bare Y after a singular head is part of one name, kept in its order:
    date_of_birth, place_of_issue, number_of_seats."""
    last = head.split()[-1]
    return bool(_DETERMINER.match(rest)) or singular(last) != last


def field_name(phrase: str) -> str:
    """`hours of sleep` -> `sleep_hours`; `Reading status` -> `reading_status`; keywords and
    the generated model's own columns are renamed."""
    phrase = phrase.strip().lower()
    of = re.fullmatch(r"(.+?)\s+of\s+(.+)", phrase)
    if of and _names_whose(of.group(1), of.group(2)):
        phrase = f"{_DETERMINER.sub('', of.group(2))} {_DETERMINER.sub('', of.group(1))}"
    name = snake(_DETERMINER.sub("", phrase, count=1))
    name = re.sub(r"(?<![a-z0-9])e_mail(?![a-z0-9])", "email", name)  # "e-mail", "E-mail address"
    return safe_field_name(name or "value")


def infer_field(name: str, entity: str = "", description: str = "") -> FieldSpec:
    """Type and constraints from the field name alone (birthday -> date, phone -> phone, price
    -> decimal, status -> enum...); unknown names are strings."""
    if "_per_" in name.strip("_"):  # "price_per_litre" is a price, whatever it is per
        measured = infer_field(name.split("_per_")[0], entity, description)
        return measured.model_copy(update={"name": name, "unique": False})
    head, of, _ = name.partition("_of_")
    if of and head and not head.endswith(("number", "num")) and name not in _DATE_WORDS | _PII_WORDS:
        # "cost_of_hire" is a cost, "date_of_issue" a date: the words before "of" say the type
        measured = infer_field(head, entity, description)
        return measured.model_copy(update={"name": name, "unique": False, "searchable": False})
    parts = name.split("_")
    last = parts[-1]
    spec: dict = {"name": name, "description": description}

    def is_(*sets: set[str]) -> bool:
        return any(name in s or last in s for s in sets)

    if last == "email" or name in {"email_address", "e_mail"}:
        spec.update(type=FieldType.email, max_length=254)
    elif last in {"phone", "mobile", "telephone", "tel"} or name == "phone_number":
        spec.update(type=FieldType.phone, max_length=32)
    elif last in {"url", "link", "website", "homepage"} or name in {"link", "website"}:
        spec.update(type=FieldType.url, max_length=2048)
    elif parts[0] in {"is", "has", "can", "should"} and len(parts) > 1 or name in _BOOLEAN_WORDS:
        spec.update(type=FieldType.boolean, default="false")
    elif last in {"status", "state", "stage"}:
        spec.update(type=FieldType.enum, choices=status_states(entity, name if last != "stage" else "stage"))
        spec["default"] = spec["choices"][0]
    elif last == "at" or name in _DATETIME_WORDS or (
            last == "time" and (len(parts) == 1 or parts[-2] in _TIME_POINT_MODIFIERS)):
        spec.update(type=FieldType.datetime)
    elif last == "time":  # screen time, social time: an amount of time
        spec.update(type=FieldType.decimal, min_value=0, description=description or "hours")
    elif last in {"on", "date"} or name in _DATE_WORDS or last in _DATE_WORDS:
        spec.update(type=FieldType.date)
    elif is_(_MONEY) or name.endswith(("_amount", "_price", "_cost")):
        spec.update(type=FieldType.decimal, min_value=0)
    elif name in _INTEGER or last in {"count", "quantity", "qty", "level", "score", "rating",
                                      "capacity", "streak", "points", "age", "year", "minutes",
                                      "priority", "rank", "seats", "spots", "bytes", "interval"} \
            or name.startswith(("number_of_", "num_")):
        spec.update(type=FieldType.integer, min_value=0)
        if last == "rating":
            spec.update(min_value=1, max_value=5)
        if last == "year":
            spec.update(min_value=1900, max_value=2100)
    elif is_(_MEASURE):
        spec.update(type=FieldType.decimal, min_value=0)
    elif is_(_TEXT):
        spec.update(type=FieldType.text)
    else:
        spec.update(type=FieldType.string, max_length=200)
    if name in _UNIQUE or last in {"sku", "isbn", "serial", "barcode", "slug"}:
        spec["unique"] = True
    if name in _SEARCHABLE or last in {"name", "title"}:
        spec["searchable"] = True
    if name in _PII_WORDS or last in {"email", "phone", "birthday"} or spec["type"] in (
            FieldType.email, FieldType.phone):
        spec["pii"] = True
    return FieldSpec(**spec)


def is_human_readable(field: FieldSpec) -> bool:
    return field.type in (FieldType.string, FieldType.text, FieldType.email) and (
        field.name in _HUMAN_FIELDS or field.name.endswith(("_name", "_title")))


def human_field_for(entity: str) -> str:
    return "title" if entity in words("title_entities") or entity.split("_")[-1] in words(
        "title_entities") else "name"


# a type word written after a listed field: "price (number)", "baked on (date)"
_TYPE_HINT = re.compile(
    r"\(\s*(?:text|string|number|numeric|integer|int|decimal|money|amount|date|time|datetime|"
    r"yes/no|yes or no|true/false|boolean|bool|flag|email|phone|url|percentage|percent)\s*\)",
    re.IGNORECASE)
_FIELDS_SENTENCE = re.compile(
    r"\.[ \t]+(?:(?:its|their|the|each has the|each one has)[ \t]+)?(?:fields|details|attributes|"
    r"columns|properties)[ \t]*:(?![ \t]*\n)", re.IGNORECASE)
_BULLET = re.compile(r"\n[ \t]*(?:[-*\u2022]|\d+[.)])[ \t]+")
_LIST_WORDS = r"(?:fields|details|attributes|columns|properties)"
# "books have these fields: title, author, shelf": the record has what the colon lists
_HAS_THESE = re.compile(rf"\b(?P<verb>has|have)[ \t]+(?:(?:these|the following|the|such|its|"
                        rf"their)[ \t]+)?{_LIST_WORDS}[ \t]*:(?![ \t]*\n)", re.IGNORECASE)
# "Inspection fields: date, building": a sentence that opens with the record's name
_NAMED_FIELDS = re.compile(
    rf"(?:^|(?<=[.!?])[ \t]+)(?!(?:its|their|the|each|these|those|all|some|other|key|main|more|"
    rf"extra|further|basic)\b)(?P<owner>[A-Za-z][a-z-]+(?:[ \t][a-z-]+)?)[ \t]+"
    rf"(?P<list>{_LIST_WORDS}[ \t]*:)(?![ \t]*\n)", re.IGNORECASE)


def flatten_field_lists(text: str, whole_items: bool = False) -> str:
    """ "Each product has:\\n- name (text)\\n- price (number)" read as the sentence "Each product
    has name, price": a colon that opens a bulleted list, and the bullets, become the commas of one
    list, and type words in parentheses go. With `whole_items` the words of a short item are joined
    by hyphens: a bullet is one field whatever its words ("baked on", "gluten free"). Same length as
    the text, so spans still point into it."""
    text = _TYPE_HINT.sub(lambda m: " " * len(m.group()), text)
    # "A clinic records visits. Fields: pet name, weight." lists the fields of what the sentence
    # before kept: read as "... visits, with pet name, weight."
    text = _FIELDS_SENTENCE.sub(lambda m: ", with" + " " * (len(m.group()) - 6), text)
    text = _HAS_THESE.sub(lambda m: m.group("verb") + " " * (len(m.group()) - len(m.group("verb"))),
                          text)
    text = _NAMED_FIELDS.sub(lambda m: m.group()[:m.start("list") - m.start()] + "has" + " " * (
        len(m.group("list")) - 3), text)

    def bullets(m: re.Match) -> str:
        items = _BULLET.sub(lambda b: "," + " " * (len(b.group()) - 1), m.group("items"))
        if whole_items:
            items = re.sub(r"(?<=\w) (?=\w)", lambda w: "-" if _short_item(items, w.start()) else " ",
                           items)
        end = "." if m.group("end") else ""
        return " " + " " + items[1:] + end  # the colon and the first bullet's comma go

    def _short_item(items: str, at: int) -> bool:
        start, end = items.rfind(",", 0, at) + 1, items.find(",", at)
        return len(items[start:end if end >= 0 else None].split()) <= 3

    return re.sub(r":(?P<items>[ \t]*(?:\n[ \t]*(?:[-*\u2022]|\d+[.)])[ \t]+[^\n]*)+)(?P<end>\n)?",
                  bullets, text)
