"""Review of the CI files a build writes: what they would do on the target's CI runners.

A workflow runs with the repository's token and secrets on every push and pull request, so a
generated one is reviewed like code that runs there. GitHub workflows are read as YAML (PyYAML,
the real structure, not a regex over the text); Dockerfiles, Makefiles and compose files, which
have no structure worth parsing for this, are read line by line. Findings:

- `ci_network`: a command calls an outside host (curl, wget, a URL that is not loopback);
- `ci_secrets`: a command reads `secrets.*` (in `run:` itself or through the step's `env:`);
- `ci_pull_request_target`: the workflow runs on `pull_request_target` (forks' code, with secrets);
- `ci_permissions`: `write-all` or a `write` scope for the workflow or a job.

Each holds the build for a reviewer. The worst are refused outright (blocking): secrets in a
step that calls an outside host (that is sending them out), a `pull_request_target` workflow
that checks out the pull request's own code, and a workflow that is not valid YAML.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mb_core.models import RiskFinding, RiskFlag

WORKFLOW_GLOBS = (".github/workflows/*.yml", ".github/workflows/*.yaml",
                  ".github/workflows/**/*.yml", ".github/workflows/**/*.yaml")
LINE_FILES = ("Dockerfile", "Makefile", "docker-compose.yml", "docker-compose.yaml", "compose.yaml")

NETWORK_TOOL = re.compile(r"(?<![\w-])(?:curl|wget|nc|ncat|netcat|telnet|scp|rsync|ssh|ftp|"
                          r"Invoke-WebRequest|Invoke-RestMethod|iwr|irm)(?![\w-])")
URL = re.compile(r"\b(?:https?|ftp|wss?)://([^/\s'\"`:?#]+)", re.IGNORECASE)
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1"})
SECRET_EXPR = re.compile(r"\$\{\{[^}]*\bsecrets\s*[.\[]\s*['\"]?([A-Za-z_][\w-]*)", re.IGNORECASE)
HEAD_REF = re.compile(r"github\.event\.pull_request\.head\.|github\.head_ref", re.IGNORECASE)


def _finding(flag: RiskFlag, path: str, evidence: str, blocking: bool = False) -> RiskFinding:
    return RiskFinding(flag=flag, path=path, evidence=evidence[:240], blocking=blocking)


def outside_hosts(text: str) -> list[str]:
    """Hosts named in URLs of `text` that are not this machine."""
    return [h for h in dict.fromkeys(m.group(1).lower() for m in URL.finditer(text))
            if h not in LOOPBACK_HOSTS and not h.startswith("127.")]


def network_call(command: str) -> str:
    """What in a shell command calls out ("" when nothing does)."""
    hosts = outside_hosts(command)
    if hosts:
        return f"calls {', '.join(hosts[:3])}"
    tool = NETWORK_TOOL.search(command)
    return f"runs {tool.group(0)}" if tool else ""


def _secrets_in(value: Any) -> list[str]:
    return [m.group(1) for m in SECRET_EXPR.finditer(yaml.safe_dump(value) if value else "")]


def _triggers(doc: dict) -> set[str]:
    # PyYAML reads a bare `on:` key as the boolean True (YAML 1.1).
    raw = doc.get("on", doc.get(True))
    if isinstance(raw, str):
        return {raw}
    if isinstance(raw, list):
        return {str(t) for t in raw}
    if isinstance(raw, dict):
        return {str(t) for t in raw}
    return set()


def _permission_findings(rel: str, where: str, permissions: Any) -> list[RiskFinding]:
    if permissions in ("write-all", "write"):
        return [_finding(RiskFlag.ci_permissions, rel, f"{where} asks for {permissions} permissions")]
    if isinstance(permissions, dict):
        writes = sorted(str(k) for k, v in permissions.items() if str(v).lower() == "write")
        if writes:
            return [_finding(RiskFlag.ci_permissions, rel,
                             f"{where} asks to write {', '.join(writes)}")]
    return []


def review_workflow(rel: str, text: str) -> list[RiskFinding]:
    """Findings in one GitHub workflow file."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        return [_finding(RiskFlag.ci_network, rel, f"not valid YAML ({first}): it cannot be reviewed",
                         blocking=True)]
    if not isinstance(doc, dict):
        return [_finding(RiskFlag.ci_network, rel, "not a workflow (no mapping at the top)",
                         blocking=True)] if doc is not None else []
    found: list[RiskFinding] = []
    pr_target = "pull_request_target" in _triggers(doc) or "workflow_run" in _triggers(doc)
    if pr_target:
        found.append(_finding(RiskFlag.ci_pull_request_target, rel,
                              "runs on pull_request_target/workflow_run: forks' pull requests get "
                              "the repository's secrets and token"))
    found += _permission_findings(rel, "the workflow", doc.get("permissions"))
    workflow_secrets = _secrets_in(doc.get("env"))
    jobs = doc.get("jobs") if isinstance(doc.get("jobs"), dict) else {}
    for job_name, job in jobs.items():
        if not isinstance(job, dict):
            continue
        found += _permission_findings(rel, f"job {job_name}", job.get("permissions"))
        job_secrets = workflow_secrets + _secrets_in(job.get("env"))
        steps = job.get("steps") if isinstance(job.get("steps"), list) else []
        for number, step in enumerate(steps, 1):
            if not isinstance(step, dict):
                continue
            label = f"job {job_name} step {step.get('name') or number}"
            uses = str(step.get("uses") or "")
            if pr_target and uses.startswith("actions/checkout") and HEAD_REF.search(
                    yaml.safe_dump(step.get("with") or {})):
                found.append(_finding(RiskFlag.ci_pull_request_target, rel,
                                      f"{label} checks out the pull request's own code under "
                                      "pull_request_target", blocking=True))
            run = step.get("run")
            if not isinstance(run, str):
                continue
            run_secrets = _secrets_in(run)
            env_secrets = job_secrets + _secrets_in(step.get("env"))
            calls = network_call(run)
            if calls:
                found.append(_finding(RiskFlag.ci_network, rel, f"{label} {calls}"))
            if run_secrets:
                found.append(_finding(RiskFlag.ci_secrets, rel,
                                      f"{label} reads secrets {', '.join(sorted(set(run_secrets)))} "
                                      "in its command"))
            sent = sorted(set(run_secrets + env_secrets))
            if calls and sent:
                found.append(_finding(RiskFlag.ci_secrets, rel,
                                      f"{label} {calls} with secrets {', '.join(sent)} in reach: "
                                      "that sends them out", blocking=True))
    return found


def review_line_file(rel: str, text: str) -> list[RiskFinding]:
    """Network calls and secret references in a Dockerfile, Makefile or compose file."""
    found: list[RiskFinding] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        calls = network_call(stripped)
        if calls:
            found.append(RiskFinding(flag=RiskFlag.ci_network, path=rel, line=number,
                                     evidence=f"{calls}"[:240]))
        if SECRET_EXPR.search(stripped):
            found.append(RiskFinding(flag=RiskFlag.ci_secrets, path=rel, line=number,
                                     evidence="reads repository secrets"))
    return found


def ci_files(tree: Path) -> list[str]:
    tree = Path(tree)
    paths = {p.relative_to(tree).as_posix() for pattern in WORKFLOW_GLOBS for p in tree.glob(pattern)
             if p.is_file() and not p.is_symlink()}
    paths |= {name for name in LINE_FILES if (tree / name).is_file()}
    return sorted(paths)


def review_ci(tree: Path, only: set[str] | None = None) -> list[RiskFinding]:
    """Findings in the tree's CI files (only those in `only`, the files a diff changed, if given)."""
    found: list[RiskFinding] = []
    for rel in ci_files(tree):
        if only is not None and rel not in only:
            continue
        text = (Path(tree) / rel).read_text(encoding="utf-8", errors="replace")
        found += (review_workflow(rel, text) if rel.startswith(".github/")
                  else review_line_file(rel, text))
    return found
