"""Requirement fidelity: how much of what specs explicitly ask for is extracted, implemented and
tested, reported as not implemented, or silently missed.

Run by hand: `python bench/fidelity.py [--split dev|held|held2|held3|dev3|...|dev11|all] [--only ID] (repeatable) [--build] [--external] [-j 2]`.

- The annotated specs (every bench/fidelity_specs*.yaml, each spec with its split) carry their
  expected requirements; an expectation is a string or {req: ..., quote: ...}. Each spec
  goes through the offline Product Architect, System Designer and Security agents and the
  traceability join with what the generator implements. Without `--build` the generated tests are
  not run: "implemented and tested" then means implemented with generated tests that exercise it.
  With `--build` each spec is built in the sandbox (the direct pipeline, a fresh storage root per
  spec, `-j` workers) and the traced tests must pass.
- `--external` adds the shared evaluation specs (../shared/eval/external_specs.json, read only
  here): they have no annotations, so only extracted / implemented / not implemented are counted.

Per kind: expected, extracted (an extracted requirement matches the expectation), implemented and
tested, reported as not implemented (or untested: the build says so; or its sentence was reported
as a requirement the offline builder did not understand, when that span holds the expectation's
quote, or for an expectation without a quote names its record and the kind's cue words), silently
missed (expected, but neither extracted nor reported).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SPEC_FILES = sorted((ROOT / "bench").glob("fidelity_specs*.yaml"))
# the shared evaluation specs sit next to the checkout (or next to the folder of worktrees)
EXTERNAL = next((p for p in (ROOT.parent / "shared" / "eval" / "external_specs.json",
                          ROOT.parent.parent / "shared" / "eval" / "external_specs.json")
                 if p.exists()), ROOT.parent / "shared" / "eval" / "external_specs.json")


def signature(req) -> list[str]:
    """The expectation strings an extracted requirement satisfies."""
    from mb_core.requirements.trace import requirement_keys

    return requirement_keys(req)


def expectation_kind(expect: str) -> str:
    head = expect.split(":")[0]
    return f"rule:{expect.split(':')[1]}" if head == "rule" else head


def expectation(entry) -> tuple[str, str | None]:
    """(the expectation form, the quote that asks for it or None)."""
    if isinstance(entry, dict):
        return str(entry["req"]), (str(entry["quote"]) if entry.get("quote") else None)
    return str(entry), None


NOT_UNDERSTOOD = "not_understood"
# the words that ask for each kind, for expectations annotated without a quote
_CUES = {
    "rule:no_overlap": r"overlap|double|twice|same time|clash|conflict",
    "rule:capacity": r"at most|no more than|up to|capacity|maximum|limit|exceed|full",
    "rule:uniqueness": r"unique|no two|same",
    "rule:state_machine": r"from|->|then",
    "rule:date_order": r"after|before|later|earlier",
    "rule:due_overdue": r"overdue|due|late",
    "rule:value_range": r"between|at least|at most|positive|negative",
    "role": r"can|may|only|able",
    "report": r"total|sum|count|number|summary|report|balance|average|how many",
    "export": r"export|csv|download|spreadsheet",
    "search_filter": r"search|filter|find|look up",
    "workflow": r"approv|reject|assign|check|borrow|return|lend|publish|archiv",
}


def reported_as_not_understood(expect: str, quote: str | None, rows: list[dict]) -> bool:
    """An expectation the builder did not extract, but whose words it reported as a requirement
    it did not understand: only when the reported span really holds them."""
    import re

    spans = [r["quote"] for r in rows if r["kind"] == NOT_UNDERSTOOD]
    if quote is not None:
        return any(quote.lower() in span.lower() for span in spans)
    kind = expectation_kind(expect)
    if kind == "relation":  # a reported clause that names both records
        # "a->b" and many-to-many "a<->b" alike: both record names
        from mb_core.spec.naming import plural

        # a record is named by its singular or its plural ("shelf", "shelves")
        ends = [e.replace("_", " ") for e in re.split(r"<?->", expect.split(":")[1])]
        return any(all(re.search(rf"\b(?:{re.escape(e)}|{re.escape(plural(e))})", span,
                                 re.IGNORECASE) for e in ends) for span in spans)
    if kind in ("field", "value_list"):  # a reported clause that names the field (and values)
        target = expect.split(":", 1)[1]
        field = target.split("=")[0].split(".")[1].replace("_", " ")
        values = [v.replace("_", " ") for v in target.split("=")[1].split(",")] if "=" in target else []
        return any(all(re.search(rf"\b{re.escape(w)}\b", span, re.IGNORECASE)
                       for w in (field, *values)) for span in spans)
    target = expect.split(":")[2] if kind.startswith("rule:") or kind == "workflow" else \
        expect.split(":")[1] if kind != "role" else expect.split(":")[2]
    record = target.split("=")[0].split(".")[0].replace("_", " ")
    cue = _CUES.get(kind)
    return cue is not None and any(
        re.search(rf"\b{re.escape(record)}", span, re.IGNORECASE) and re.search(cue, span, re.IGNORECASE)
        for span in spans)


def _plan(text: str):
    from mb_core.agents import product_architect, security, system_designer
    from mb_core.agents.base import AgentContext, run_agent
    from mb_core.agents.io import ArchitectInput, DesignerInput, SecurityInput
    from mb_core.providers.offline import OfflineProvider

    ctx = AgentContext(provider=OfflineProvider())
    spec = run_agent(product_architect.DEFINITION, ArchitectInput(text=text), ctx)
    plan = run_agent(system_designer.DEFINITION, DesignerInput(spec=spec), ctx)
    return spec, run_agent(security.DEFINITION, SecurityInput(plan=plan), ctx)


def _built_traces(text: str):
    """The traceability rows of a real sandbox build (fresh storage root)."""
    home = tempfile.mkdtemp(prefix="mb-fidelity-")
    os.environ["MB_HOME"] = home
    from mb_core.models import BuildRun, BuildStatus
    from mb_core.pipeline import BuildEnvironment, run_build_direct
    from mb_core.settings import Settings
    from mb_core.store import new_build_id

    env = BuildEnvironment.open(Settings.from_env({**os.environ, "MB_HOME": home}))
    build_id = new_build_id()
    try:
        env.store.create_build(BuildRun(id=build_id, spec_text=text, status=BuildStatus.running))
        outcome = run_build_direct(env, build_id)
        return outcome.report.requirements
    finally:
        env.store.dispose()


def judge(item: dict, build: bool) -> dict:
    """One spec -> its requirements with their trace status, and which expectations they meet."""
    from mb_core.models import RequirementStatus
    from mb_core.requirements.trace import trace_requirements

    try:
        spec, plan = _plan(item["text"])
    except Exception as exc:  # noqa: BLE001 - a refused spec is a row: every expectation missed
        return {"id": item["id"], "error": f"{type(exc).__name__}: {exc}"[:200], "rows": [],
                "expect": item.get("expect", [])}
    from mb_core.codegen.errors import PlanNotRenderable

    error = ""
    try:
        if build:
            traces = {t.requirement: t for t in _built_traces(item["text"])}
        else:
            traces = {t.requirement: t for t in trace_requirements(plan, None)}
    except PlanNotRenderable as exc:
        # the generator refuses the plan with one error line: what was extracted is reported, not built
        error, traces = f"{type(exc).__name__}: {exc}"[:200], {}
    rows = []
    for req in spec.requirements:
        t = traces.get(req.id)
        status = t.status if t else RequirementStatus.not_implemented
        tested = status == RequirementStatus.met or (
            not build and status == RequirementStatus.untested and t is not None and t.tests
            and t.reason == "tests not run yet")
        rows.append({"id": req.id, "kind": f"rule:{req.rule.value}" if req.rule else req.kind.value,
                     "signatures": signature(req), "tested": bool(tested),
                     "reason": "" if tested else (t.reason if t else error or "not traced"),
                     "quote": req.span.text})
    return {"id": item["id"], "rows": rows, "expect": item.get("expect", []), "error": error}


def summarise(results: list[dict], annotated: bool) -> str:
    per: dict[str, Counter] = defaultdict(Counter)
    missed: list[str] = []
    unbuilt: list[str] = []
    for res in results:
        for row in res["rows"]:
            per[row["kind"]]["extracted_all"] += 1
            per[row["kind"]]["tested_all"] += row["tested"]
            if not row["tested"]:
                unbuilt.append(f"{res['id']} {row['kind']} \"{row['quote'][:50]}\": {row['reason']}")
        for entry in res["expect"]:
            expect, quote = expectation(entry)
            kind = expectation_kind(expect)
            per[kind]["expected"] += 1
            match = next((r for r in res["rows"] if expect in r["signatures"]), None)
            if match is None and reported_as_not_understood(expect, quote, res["rows"]):
                per[kind]["reported"] += 1
                per[kind]["reported_unread"] += 1
                continue
            if match is None:
                per[kind]["missed"] += 1
                missed.append(f"{res['id']}: {expect}" + (f" ({res['error']})" if res["error"] else ""))
                continue
            per[kind]["extracted"] += 1
            per[kind]["tested" if match["tested"] else "reported"] += 1
    lines = []
    if annotated:
        lines += [("| kind | expected | extracted | implemented+tested | reported not implemented"
                   " (of which: sentence not understood) | silently missed | all extracted (incl."
                   " unexpected) |"),
                  "|---|---|---|---|---|---|---|"]
        for kind in sorted(per):
            c = per[kind]
            lines.append(f"| {kind} | {c['expected']} | {c['extracted']} | {c['tested']} | "
                         f"{c['reported']} ({c['reported_unread']}) | {c['missed']} | "
                         f"{c['extracted_all']} |")
        total = sum((per[k] for k in per), Counter())
        lines.append(f"| **all** | {total['expected']} | {total['extracted']} | {total['tested']} | "
                     f"{total['reported']} ({total['reported_unread']}) | {total['missed']} | "
                     f"{total['extracted_all']} |")
        if total["expected"]:
            lines.append(f"\nexpected requirements implemented and tested: {total['tested']}/"
                         f"{total['expected']} ({100 * total['tested'] / total['expected']:.0f}%); "
                         f"silently missed: {total['missed']}")
    else:
        lines += ["| kind | extracted | implemented+tested | reported not implemented |",
                  "|---|---|---|---|"]
        for kind in sorted(per):
            c = per[kind]
            lines.append(f"| {kind} | {c['extracted_all']} | {c['tested_all']} | "
                         f"{c['extracted_all'] - c['tested_all']} |")
    if missed:
        lines += ["", "silently missed:", *[f"- {m}" for m in missed]]
    if unbuilt:
        lines += ["", "reported as not implemented (the build says so):",
                  *[f"- {u}" for u in unbuilt[:80]]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--split", default="all",
                        help="annotated specs to measure: a split the spec files name, all, "
                             "or none (only --external)")
    parser.add_argument("--build", action="store_true", help="build each spec in the sandbox")
    parser.add_argument("--external", action="store_true", help="also the shared external specs")
    parser.add_argument("-j", "--workers", type=int, default=2, choices=(1, 2))
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    items = [item for path in SPEC_FILES
             for item in yaml.safe_load(path.read_text(encoding="utf-8"))["specs"]]
    known = tuple(dict.fromkeys(i["split"] for i in items))
    if args.split not in (*known, "all", "none"):
        parser.error(f"--split {args.split!r}: the spec files name {', '.join(known)} (or all, none)")
    splits = known if args.split == "all" else (
        () if args.split == "none" else (args.split,))
    for split in splits:
        chosen = [i for i in items if i["split"] == split and (not args.only or i["id"] in args.only)]
        with ProcessPoolExecutor(max_workers=args.workers, max_tasks_per_child=1) as pool:
            results = list(pool.map(judge, chosen, [args.build] * len(chosen)))
        print(f"\n### annotated specs, split {split} ({len(chosen)} specs)\n")
        print(summarise(results, annotated=True), flush=True)
    if args.external:
        if not EXTERNAL.exists():
            sys.exit(f"error: {EXTERNAL} not found")
        specs = json.loads(EXTERNAL.read_text(encoding="utf-8"))["specs"]
        chosen = [{"id": s["id"], "text": s["spec"], "expect": []} for s in specs]
        with ProcessPoolExecutor(max_workers=args.workers, max_tasks_per_child=1) as pool:
            results = list(pool.map(judge, chosen, [args.build] * len(chosen)))
        print(f"\n### external specs ({len(chosen)}, not annotated)\n")
        print(summarise(results, annotated=False), flush=True)


if __name__ == "__main__":
    main()
