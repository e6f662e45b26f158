"""Reading pytest's junit report into test results."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mb_core.models import TestCaseResult, TestOutcome


def _nodeid(case: ET.Element) -> str:
    name = case.get("name", "")
    classname = case.get("classname", "")
    file = case.get("file")
    if file:
        module = file[:-3].replace("/", ".") if file.endswith(".py") else file
        rest = classname[len(module):].lstrip(".") if classname.startswith(module) else ""
        return "::".join([file] + ([*rest.split(".")] if rest else []) + [name])
    return f"{classname}::{name}" if classname else name


def parse_junit(text: str) -> list[TestCaseResult]:
    """Test cases from a pytest junit report; [] when it is unreadable."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return []
    results: list[TestCaseResult] = []
    for case in root.iter("testcase"):
        outcome, message = TestOutcome.passed, ""
        for child in case:
            tag = child.tag
            if tag in ("failure", "error", "skipped"):
                outcome = {"failure": TestOutcome.failed, "error": TestOutcome.error,
                           "skipped": TestOutcome.skipped}[tag]
                message = (child.get("message") or (child.text or "")).strip()
                if tag != "skipped":
                    break  # a failure outranks a skip marker of the same case
        try:
            seconds = float(case.get("time") or 0.0)
        except ValueError:
            seconds = 0.0
        results.append(TestCaseResult(nodeid=_nodeid(case), outcome=outcome, seconds=seconds,
                                      message=message[:2000]))
    return results
