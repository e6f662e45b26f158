"""Is a unified diff safe to apply? A pure check over the patch text, before `git apply` sees it.

A diff comes from an agent, so it is untrusted: it may try to write outside the repository, into
`.git/`, into key or `.env` files, through a symlink, or carry a credential. `check_diff` answers
with every rule the diff breaks; an empty list means the diff may be applied.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import threading
from functools import lru_cache
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from unidiff import PatchedFile, PatchSet
from wcmatch import glob

from mb_core.errors import DiffRejected

# `**` spans folders, `*` stays inside one; dotfiles match like any other name.
_GLOB_FLAGS = glob.GLOBSTAR | glob.DOTGLOB


class WriteScope(BaseModel):
    """Where a diff may write: a path must match an `allow` glob and no `deny` glob.

    Globs are matched against the repository-relative POSIX path. A deny glob starting with `!`
    re-admits paths the other deny globs catch ("**/.env.*" with "!**/.env.example").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: list[str] = Field(default_factory=lambda: [
        "app/**", "tests/**", "migrations/**", "scripts/**", "docs/**", ".github/workflows/**",
        "*.md", "*.txt", "*.toml", "*.cfg", "*.ini", "*.py",
        "Dockerfile", ".dockerignore", ".gitignore", ".env.example", "Makefile",
        "docker-compose.yml", "docker-compose.yaml", "compose.yaml",
    ])
    deny: list[str] = Field(default_factory=lambda: [
        "**/.env", "**/.env.*", "!**/.env.example",
        "**/*.pem", "**/*.key", "**/*.p12", "**/*.pfx", "**/*.jks", "**/*.keystore",
        "**/id_rsa*", "**/id_dsa*", "**/id_ecdsa*", "**/id_ed25519*",
    ])

    def allows(self, path: str) -> bool:
        return glob.globmatch(path, self.allow, flags=_GLOB_FLAGS)

    def denies(self, path: str) -> bool:
        positive = [p for p in self.deny if not p.startswith("!")]
        negative = [p[1:] for p in self.deny if p.startswith("!")]
        return glob.globmatch(path, positive, flags=_GLOB_FLAGS) and not (
            negative and glob.globmatch(path, negative, flags=_GLOB_FLAGS)
        )


DEFAULT_SCOPE = WriteScope()


class Violation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    rule: str  # unparseable | absolute_path | parent_segment | git_dir | outside_scope | denied_path
    #            | symlink_or_special_mode | binary | private_key | secret | env_value
    message: str  # one line, never the secret itself
    line: int | None = None  # line number in the new file, for content rules


class DiffStats(NamedTuple):
    files_changed: list[str]
    added: int
    removed: int


# ---------------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------------


def unquote_git_path(raw: str) -> str:
    """git writes unusual names C-quoted ("a/\\303\\251.py"); unidiff leaves the quotes in."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return codecs.escape_decode(raw[1:-1].encode("utf-8"))[0].decode("utf-8", "replace")
    return raw


def _strip_prefix(raw: str, prefix: str) -> str | None:
    """Repository path of a ---/+++ name; None for /dev/null."""
    name = unquote_git_path(raw)
    if name == "/dev/null":
        return None
    return name.removeprefix(prefix)


def path_violations(path: str, scope: WriteScope = DEFAULT_SCOPE) -> list[Violation]:
    """The rules a single repository path breaks (the rules that do not need the content)."""
    shown = path if path else "<empty path>"
    if not path or path.strip() != path or "\x00" in path or "\n" in path:
        return [Violation(path=shown, rule="unparseable", message=f"{shown!r}: not a usable path")]
    if path.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", path):
        return [Violation(path=path, rule="absolute_path", message=f"{path}: absolute path")]
    segments = re.split(r"[\\/]", path)
    if ".." in segments:
        return [Violation(path=path, rule="parent_segment", message=f"{path}: path has a '..' segment")]
    if any(s.lower() == ".git" for s in segments):
        return [Violation(path=path, rule="git_dir", message=f"{path}: writes inside .git/")]
    normal = posixpath.normpath(path)
    if scope.denies(normal):
        return [Violation(path=path, rule="denied_path",
                          message=f"{path}: key, certificate or .env files may not be written")]
    if not scope.allows(normal):
        return [Violation(path=path, rule="outside_scope", message=f"{path}: outside the write scope")]
    return []


# ---------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------

PRIVATE_KEY_BLOCK = re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")

# detect-secrets findings whose value is one of these is a stand-in, not a credential.
_PLACEHOLDER = re.compile(
    r"(change|replace|example|your[-_]|placeholder|dummy|fake|test|sample|redacted|not[-_]?a[-_]?secret"
    r"|insecure|dev[-_]?only|xxx|\*\*\*|^<.*>$|\$\{|\{\{|^(postgres|password|pass|user|secret|app"
    r"|admin|root|guest)$)",
    re.IGNORECASE,
)
# An HTTP header name such as "X-API-Key" is a keyword match, not a value.
_HEADER_NAME = re.compile(r"^X-[A-Za-z0-9-]+$")
# Types whose shape is specific enough that even a "test"-looking value is worth stopping.
_WEAK_TYPES = {"Secret Keyword", "Basic Auth Credentials", "Base64 High Entropy String",
               "Hex High Entropy String"}
# A public IP address is not a credential; private keys get their own clearer rule.
_SKIPPED_PLUGINS = {"IPPublicDetector", "PrivateKeyDetector"}

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_SECRET_NAME = re.compile(
    r"(secret|passw|pwd|token|api[_-]?key|private|credential|signing|salt|dsn)", re.IGNORECASE
)
# Settings such as ACCESS_TOKEN_EXPIRE_MINUTES=30 or DEBUG_PASSWORD_RESET=false hold no secret.
_PLAIN_VALUE = re.compile(r"^([0-9.]+|true|false|yes|no|on|off|none|null)$", re.IGNORECASE)


def is_placeholder(value: str) -> bool:
    value = value.strip().strip("'\"")
    return not value or bool(_PLACEHOLDER.search(value)) or bool(_HEADER_NAME.match(value))


# detect-secrets keeps its settings in a process-wide object; one scan at a time may change them.
_SETTINGS_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _plugin_names() -> tuple[str, ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    return tuple(sorted(
        cls.__name__ for cls in get_mapping_from_secret_type_to_class().values()
        if cls.__name__ not in _SKIPPED_PLUGINS
    ))


def _secret_types(path: str, lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """(line number, secret type) for each added line detect-secrets flags.

    Each plugin reads the line as it would in a file of that name (the keyword rules differ per
    language) without the eager ad-hoc mode of `scan_line`, which flags nearly every identifier.
    """
    from detect_secrets.core.scan import get_filters_with_parameter
    from detect_secrets.settings import get_plugins, get_settings, transient_settings
    from detect_secrets.util.code_snippet import get_code_snippet
    from detect_secrets.util.inject import call_function_with_arguments

    def filtered(parameters: list[str], **kwargs: object) -> bool:
        for filter_fn in get_filters_with_parameter(*parameters):
            try:
                if call_function_with_arguments(filter_fn, **kwargs):
                    return True
            except TypeError:
                continue
        return False

    found: list[tuple[int, str]] = []
    with _SETTINGS_LOCK, transient_settings({"plugins_used": [{"name": n} for n in _plugin_names()]}):
        # The file is not on disk; the file-level filter would drop every finding.
        get_settings().disable_filters("detect_secrets.filters.common.is_invalid_file")
        plugins = get_plugins()
        for number, line in lines:
            context = get_code_snippet(lines=[line], line_number=1)
            for plugin in plugins:
                for secret in plugin.analyze_line(filename=path, line=line, line_number=number,
                                                  context=context):
                    value = secret.secret_value or ""
                    common = {"filename": path, "secret": value, "plugin": plugin, "line": line}
                    if filtered(["secret"], **common) or filtered(["context"], context=context,
                                                                  **common):
                        continue
                    if secret.type in _WEAK_TYPES and is_placeholder(value):
                        continue
                    found.append((number, secret.type))
    return found


def _content_violations(path: str, added: list[tuple[int, str]]) -> list[Violation]:
    out: list[Violation] = []
    for number, line in added:
        if PRIVATE_KEY_BLOCK.search(line):
            out.append(Violation(path=path, rule="private_key", line=number,
                                 message=f"{path}:{number}: adds a private key block"))
    is_env_example = posixpath.basename(path) == ".env.example"
    if is_env_example:
        for number, line in added:
            match = _ENV_LINE.match(line)
            if (match and _SECRET_NAME.search(match.group(1)) and not is_placeholder(match.group(2))
                    and not _PLAIN_VALUE.match(match.group(2).strip("'\""))):
                out.append(Violation(
                    path=path, rule="env_value", line=number,
                    message=f"{path}:{number}: {match.group(1)} has a value; leave it empty or a placeholder",
                ))
    flagged = {v.line for v in out}
    seen: set[int] = set()
    for number, kind in _secret_types(path, [(n, l) for n, l in added if n not in flagged]):
        if number in seen:
            continue
        seen.add(number)
        out.append(Violation(path=path, rule="secret", line=number,
                             message=f"{path}:{number}: added line looks like a secret ({kind})"))
    return sorted(out, key=lambda v: (v.line or 0, v.rule))


# ---------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------

_SPECIAL_MODE = re.compile(r"^(?:new file mode|deleted file mode|old mode|new mode|index \S+) 1[26]0000\b")
_HEADER_PATH = re.compile(r"^(rename from|rename to|copy from|copy to) (.+)$")


def _header_paths(patched: PatchedFile) -> list[str]:
    """Every path the file's header names: ---/+++ and git's rename/copy lines."""
    paths = [
        p for p in (_strip_prefix(patched.source_file, "a/"), _strip_prefix(patched.target_file, "b/"))
        if p is not None
    ]
    for info in patched.patch_info or []:
        match = _HEADER_PATH.match(str(info).rstrip("\n"))
        if match:
            paths.append(unquote_git_path(match.group(2)))
    return list(dict.fromkeys(paths))


def _parse(patch: str) -> PatchSet:
    try:
        patch_set = PatchSet(patch)
    except Exception as exc:  # whatever the parser trips on, the diff cannot be vetted
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DiffRejected(f"diff rejected: not a readable unified diff ({first})",
                           violations=[f"not a readable unified diff ({first})"]) from exc
    if patch.strip() and len(patch_set) == 0:
        raise DiffRejected("diff rejected: not a readable unified diff (no file changes found)",
                           violations=["not a readable unified diff (no file changes found)"])
    return patch_set


def check_diff(patch: str, scope: WriteScope = DEFAULT_SCOPE) -> list[Violation]:
    """Every rule the patch breaks, in patch order; [] means it may be applied."""
    try:
        patch_set = _parse(patch)
    except DiffRejected as exc:
        return [Violation(path="", rule="unparseable", message=exc.violations[0])]

    violations: list[Violation] = []
    for patched in patch_set:
        paths = _header_paths(patched)
        path_rules = [v for p in paths for v in path_violations(p, scope)]
        violations.extend(path_rules)
        target = _strip_prefix(patched.target_file, "b/") or _strip_prefix(patched.source_file, "a/") or ""
        info = [str(line).rstrip("\n") for line in (patched.patch_info or [])]
        if any(_SPECIAL_MODE.match(line) for line in info):
            violations.append(Violation(path=target, rule="symlink_or_special_mode",
                                        message=f"{target}: symlinks and submodules may not be written"))
        if patched.is_binary_file or any(
            line.startswith(("GIT binary patch", "Binary files ")) for line in info
        ):
            violations.append(Violation(path=target, rule="binary",
                                        message=f"{target}: binary patches are not accepted"))
        if path_rules:
            continue  # content of a file that may not be written at all needs no second opinion
        added = [(line.target_line_no or 0, line.value.rstrip("\r\n"))
                 for hunk in patched for line in hunk if line.is_added]
        violations.extend(_content_violations(target, added))
    return violations


def diff_stats(patch: str) -> DiffStats:
    """Paths changed (new names), lines added and removed. Raises DiffRejected if unreadable."""
    patch_set = _parse(patch)
    files = [
        _strip_prefix(p.target_file, "b/") or _strip_prefix(p.source_file, "a/") or ""
        for p in patch_set
    ]
    return DiffStats(files_changed=files, added=patch_set.added, removed=patch_set.removed)


def rejection(violations: list[Violation]) -> DiffRejected:
    """The one-line error for a rejected diff: the first violation, and how many more."""
    first = violations[0].message
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    return DiffRejected(f"diff rejected: {first}{more}", violations=[v.message for v in violations])
