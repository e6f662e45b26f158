"""Is a unified diff safe to apply? A pure check over the patch text, before `git apply` sees it.

A diff comes from an agent, so it is untrusted: it may try to write outside the repository, into
`.git/`, into key or `.env` files, through a symlink, or carry a credential. `check_diff` answers
with every rule the diff breaks; an empty list means the diff may be applied. `size_violations`
comes first: reading a diff costs time in proportion to its size, so one past the limits is
refused before it is parsed. (mb_core.workspace.vet_patch adds git's own reading of the patch:
the one gate both `mb check-diff` and a build's diff pass.)
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


class DiffLimits(BaseModel):
    """What a diff may cost before it is read: bytes of patch text and files it changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int = Field(default=4 * 1024 * 1024, gt=0)  # MB_MAX_DIFF_BYTES
    max_files: int = Field(default=1000, gt=0)  # MB_MAX_DIFF_FILES


DEFAULT_LIMITS = DiffLimits()


class Violation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    rule: str  # too_large | too_many_files | unparseable | unprefixed_path | path_mismatch
    #            | absolute_path | parent_segment | git_dir | outside_scope | denied_path
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

# Every mode a header gives, however it is spelled: git reads "0120000" and "120777" as symlinks.
_MODE_LINE = re.compile(r"^(?:new file mode|deleted file mode|old mode|new mode) +(\S+)\s*$"
                        r"|^index +\S+ +(\S+)\s*$")
REGULAR_MODES = frozenset({0o100644, 0o100755})
_HEADER_PATH = re.compile(r"^(rename from|rename to|copy from|copy to) (.+)$")
_FILE_HEADER = re.compile(r"^diff --git ", re.MULTILINE)
_TARGET_HEADER = re.compile(r"^\+\+\+ ", re.MULTILINE)


def is_regular_mode(raw: str) -> bool:
    """True for the modes of an ordinary file (100644, 100755), read as git reads them (octal)."""
    try:
        return int(raw, 8) in REGULAR_MODES
    except ValueError:
        return False


def special_mode_violation(path: str, raw: str) -> Violation:
    return Violation(path=path, rule="symlink_or_special_mode",
                     message=f"{path}: mode {raw} is not a regular file; symlinks, submodules "
                             "and other special files may not be written")


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def too_large(size: int, limits: DiffLimits) -> Violation:
    return Violation(path="", rule="too_large",
                     message=f"the diff is {_size(size)}; the limit is {_size(limits.max_bytes)} "
                             "(MB_MAX_DIFF_BYTES)")


def size_violations(patch: str | bytes, limits: DiffLimits = DEFAULT_LIMITS) -> list[Violation]:
    """The limits a patch breaks, counted without parsing it (linear, no allocation per line)."""
    size = len(patch) if isinstance(patch, bytes) else len(patch.encode("utf-8", "surrogateescape"))
    if size > limits.max_bytes:
        return [too_large(size, limits)]
    text = patch.decode("utf-8", "replace") if isinstance(patch, bytes) else patch
    # git diffs announce each file; plain unified diffs only have their +++ lines.
    files = len(_FILE_HEADER.findall(text)) or len(_TARGET_HEADER.findall(text))
    if files > limits.max_files:
        return [Violation(path="", rule="too_many_files",
                          message=f"the diff changes {files} files; the limit is {limits.max_files} "
                                  "(MB_MAX_DIFF_FILES)")]
    return []


def _prefix_violations(patched: PatchedFile) -> list[Violation]:
    """git strips the first folder of every ---/+++ name: one without a/ or b/ loses a real folder
    ("app/run.sh" is written as "run.sh"), so what the checks read is not what git writes."""
    out = []
    for raw, prefix in ((patched.source_file, "a/"), (patched.target_file, "b/")):
        name = unquote_git_path(raw)
        if name != "/dev/null" and not name.startswith(prefix):
            out.append(Violation(path=name, rule="unprefixed_path",
                                 message=f"{name}: a patch path must start with {prefix} "
                                         f"(git would read it as {name.partition('/')[2] or name!r})"))
    return out


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


class DiffReading(NamedTuple):
    violations: list[Violation]
    paths: set[str]  # every path the headers name (old and new), as the parser reads them


def check_diff(patch: str, scope: WriteScope = DEFAULT_SCOPE) -> list[Violation]:
    """Every rule the patch breaks, in patch order; [] means it may be applied."""
    return read_diff(patch, scope).violations


def read_diff(patch: str, scope: WriteScope = DEFAULT_SCOPE) -> DiffReading:
    """The rules over the patch text, and the paths it names (for comparing with git's reading)."""
    try:
        patch_set = _parse(patch)
    except DiffRejected as exc:
        return DiffReading([Violation(path="", rule="unparseable", message=exc.violations[0])], set())

    violations: list[Violation] = []
    named: set[str] = set()
    for patched in patch_set:
        path_rules = _prefix_violations(patched)
        paths = _header_paths(patched)
        named.update(paths)
        path_rules += [v for p in paths for v in path_violations(p, scope)]
        violations.extend(path_rules)
        target = _strip_prefix(patched.target_file, "b/") or _strip_prefix(patched.source_file, "a/") or ""
        info = [str(line).rstrip("\n") for line in (patched.patch_info or [])]
        modes = [m.group(1) or m.group(2) for m in map(_MODE_LINE.match, info) if m]
        special = next((raw for raw in modes if not is_regular_mode(raw)), None)
        if special is not None:
            violations.append(special_mode_violation(target, special))
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
    return DiffReading(violations, named)


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
