"""What a record is looked at through: reports (totals, counts, per-parent sums, series), exports
and search/filter, read from the sentences that ask for them.
"""

from __future__ import annotations

import re

from mb_core.models import RequirementKind
from mb_core.requirements.extract import Collector, _field_name, _forms, _split_list

_UI_WORDS = re.compile(r"\b(chart|charts|graph|graphs|dashboard|dashboards|calendar view|map view|"
                       r"page|pages|screen|screens|widget|plot|plots|heat ?map)\b", re.IGNORECASE)


_REPORT = re.compile(r"\b(?:totals?|sum|sums|average|averages|mean|count|counts|number of|how many|"
                     r"how much|balances?|breakdown|broken down|summary|summaries|report|reports|"
                     r"statistics|stats|revenue|turnover|takings|tally)\b", re.IGNORECASE)
# money words that name no record: "the revenue per shop" sums the record that carries an amount
_MONEY_FIELDS = ("amount", "total", "price", "cost", "value", "revenue", "fee")


_COUNT_WORD = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|fifty|hundred)"
# a ranking: "the top 5 customers by total spent", "the ten best-selling products", "rank the
# agents by tickets closed", "a leaderboard of players"
_RANKING = re.compile(
    rf"\btop\s+{_COUNT_WORD}\b|\b{_COUNT_WORD}\s+(?:largest|biggest|highest|lowest|smallest|"
    rf"best|worst|most|least|busiest|best[- ]selling|top[- ]selling|leading)\b|"
    rf"\b(?:best|top)[- ]selling\b|\brank(?:s|ed|ing)?\b|\bleaderboards?\b", re.IGNORECASE)
RANKING_REASON = ("it asks for a ranking (the top rows by a total, cut to a number), which the "
                  "offline builder does not generate: its reports give totals per group, unranked "
                  "and uncut; an LLM provider (--provider openai) can read and build it")


def _reports(c: Collector, start: int, sentence: str) -> None:
    ranking = _RANKING.search(sentence)
    if ranking is not None and re.match(r"\s*(?:also\s+|please\s+)?(?:show|list|display|report|"
                                        r"give|find|see|view|rank|keep)\b|.*\b(?:see|view|show|"
                                        r"list)\b", sentence, re.IGNORECASE):
        # a plain total would answer another question: reported, never built as a total
        lead = len(sentence) - len(sentence.lstrip())
        said = sentence.strip()
        near = c.r.in_range(start, start + len(sentence))
        c.not_understood(start + lead, said, near[0].entity if near else None, RANKING_REASON)
        return
    m = _REPORT.search(sentence) or _UI_WORDS.search(sentence)
    if not m:
        return
    low = sentence.lower()
    if not re.search(r"\b(per|by|for each|of each|each|grouped|report|reports|summary|summaries|of|"
                     r"balance|balances|statistics|stats|breakdown|total|totals|monthly|daily)\b", low):
        return
    # a record the reader made of the report's own words ("revenue", "broken down") is not counted
    near = [x for x in c.r.in_range(start, start + len(sentence))
            if not (x.start < start + m.end() and x.end > start + m.start())]
    after = [x for x in near if x.start >= start + m.start()] or near
    # "per shop", "by shop", "for/of/in/at each shop", else "... each teacher has"
    per = re.search(r"\b(?:per|by|(?:for|of|in|at|on|under|within) each|grouped by)\s+(?:the\s+)?"
                    r"(?P<g>[\w-]+(?: [\w-]+)?)", low[m.start():]) or re.search(
        r"\beach\s+(?P<g>[\w-]+(?: [\w-]+)?)", low[m.start():])
    group = None
    if per:
        g = per.group("g")
        group = next((e for e in c.r.entities if any(
            re.match(rf"{re.escape(f)}\b", g) for f in _forms(e))), None) or _field_name(g)
    measured = [x.entity for x in after if x.entity != group]
    entity = measured[0] if measured else None
    if entity is None and group in c.r.entities:
        # "the total amount per employee": the numbers are on the records an employee has
        entity = _counted_under(c, group, low[m.end():per.start() + m.start()] if per else "")
    if entity is None:
        entity = after[0].entity if after else None
    if entity is None:  # "a monthly revenue report": the record that carries the money
        entity = next((e for e in c.r.entities if any(f in _MONEY_FIELDS or f.endswith(
            tuple(f"_{m}" for m in _MONEY_FIELDS)) for f in c.r.fields.get(e, []))), None)
    ui = _UI_WORDS.search(sentence)
    # a time series: "a monthly summary", "totals per month", "sales by day"
    period = ("month" if re.search(r"\bmonthly\b|\b(?:per|each|every|by|a) month\b", low) else
              "day" if re.search(r"\bdaily\b|\b(?:per|each|every|by|a) day\b", low) else None)
    if group in {"month", "day", "week", "year"}:
        group = None
    c.add(RequirementKind.report, start, start + len(sentence), ("report", entity, group),
          entity=entity, params={"group_by": group, "measure": m.group().lower(),
                                 "ui": ui.group().lower() if ui else None,
                                 **({"period": period} if period else {})},
          summary=f"{m.group().lower()} of {entity}" + (f" per {group}" if group else ""))


def _counted_under(c: Collector, group: str, between: str) -> str | None:
    """The child record of `group` a report over it sums or counts: the one with the measured
    field ("amount"), else its only child, by the relations the spec or the text states."""
    children = [r.child for r in c.r.spec.relations if r.parent == group]
    children += [r.other for r in c.items if r.kind == RequirementKind.relation
                 and r.owner == group and r.other != group]
    children = list(dict.fromkeys(children))
    wanted = _field_name(between)
    with_field = [ch for ch in children if wanted and (wanted in c.r.fields.get(ch, []) or any(
        f.endswith(f"_{wanted}") or f == wanted.split("_")[-1] for f in c.r.fields.get(ch, [])))]
    if with_field:
        return with_field[0]
    return children[0] if children else None


def _exports(c: Collector, start: int, sentence: str) -> None:
    m = re.search(r"\bexport\w*\b|\bcsv\b|\bspreadsheet\b|\bdownload\w*\b", sentence, re.IGNORECASE)
    if not m:
        return
    fmt = re.search(r"\b(csv|pdf|excel|xlsx|json|xml|ical|ics)\b", sentence, re.IGNORECASE)
    near = c.r.in_range(start, start + len(sentence))
    targets = list(dict.fromkeys(x.entity for x in near)) or c.r.entities[:1]
    for entity in targets:
        c.add(RequirementKind.export, start + m.start(), start + m.end(), ("export", entity),
              entity=entity, params={"format": (fmt.group().lower() if fmt else "csv")},
              summary=f"export {entity} rows as {(fmt.group() if fmt else 'CSV').upper()}")


def _search(c: Collector, start: int, sentence: str) -> None:
    m = re.search(r"\b(?:search\w*|filter\w*|look up|find)\b", sentence, re.IGNORECASE)
    if not m:
        return
    near = [x for x in c.r.in_range(start, start + len(sentence)) if x.start >= start + m.start()] \
        or c.r.in_range(start, start + len(sentence))
    by = re.search(r"\bby\s+(?P<list>[\w -]+?(?:\s*,\s*[\w -]+?)*(?:\s*,?\s*(?:or|and)\s+[\w -]+)?)"
                   r"\s*$", sentence[m.start():], re.IGNORECASE)
    fields = [_field_name(x) for x in _split_list(by.group("list")) if _field_name(x)] if by else []
    for entity in list(dict.fromkeys(x.entity for x in near))[:2]:
        c.add(RequirementKind.search_filter, start + m.start(), start + len(sentence),
              ("search", entity), entity=entity, params={"fields": fields},
              summary=f"search/filter {entity}" + (f" by {', '.join(fields)}" if fields else ""))

