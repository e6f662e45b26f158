"""The PR body counts the endpoints the generated service really declares, not the plan's list."""

from mb_core.agents.io import DiffStats, ReviewInput
from mb_core.agents.reviewer import declared_operations, write_review
from mb_core.models import EntitySpec, EvalReport, ScaffoldPlan

PATCH = """\
--- /dev/null
+++ b/app/main.py
+    @app.get("/health")
+def create_app(): ...
--- /dev/null
+++ b/app/routers/contact.py
+@router.get("")
+@router.post("", status_code=201)
+@router.patch("/{item_id}")
+# @router.delete is only a comment here
--- /dev/null
+++ b/tests/test_contact.py
+@router.get("/not-served")
--- /dev/null
+++ b/README.md
+@router.get("/not-code")
"""


def test_declared_operations_counts_route_decorators_of_application_code():
    assert declared_operations(PATCH) == 4
    assert declared_operations("") == 0


def test_pr_body_endpoint_count_is_what_the_diff_declares():
    plan = ScaffoldPlan(app_name="crm", title="CRM", entities=[EntitySpec(name="contact", plural="contacts")])
    report = EvalReport(build_id="b1", passed=True)
    stats = {"files_changed": ["app/main.py"], "added_lines": 10, "removed_lines": 0, "sha256": "ab" * 32}
    served = write_review(ReviewInput(plan=plan, diff=DiffStats(**stats, operations=declared_operations(PATCH)),
                                      report=report, approval_threshold=50))
    assert "Endpoints: 4." in served.pr_body
    planned = write_review(ReviewInput(plan=plan, diff=DiffStats(**stats), report=report, approval_threshold=50))
    assert "Endpoints: 0." in planned.pr_body  # no count from the diff: the plan's list
