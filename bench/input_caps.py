"""What bad input costs: the spec reader on long lists, and a diff's way through its gate.

Run by hand: `python bench/input_caps.py` (add `--uncapped` to also time the full diff checks on
10 and 50 MB, several minutes). Each case runs in its own process, so its peak memory (max RSS)
is its own. Figures, not assertions: the tests prove the behaviour, this shows the cost.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC_SIZES = (100, 1_000, 10_000)
DIFF_MB = (1, 10, 50)


def made_up_words(n: int) -> list[str]:
    consonants, vowels = "bdfgklmnprtvz", "aeiou"
    found = ("".join(p) + "o" for p in itertools.product(consonants, vowels, consonants, vowels,
                                                         consonants))
    return list(itertools.islice(found, n))


def spec_text(shape: str, n: int) -> str:
    names = made_up_words(n)
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    if shape == "records listed":
        return f"Build an inventory system that manages {listed}."
    if shape == "fields listed":
        return f"Build an inventory system. Each item has {listed}."
    return "Build an inventory system. " + " ".join(f"Staff manage {x}." for x in names)


def generated_answer(megabytes: int):
    """A provider answer of about that many megabytes of new app files."""
    from mb_core.models import GeneratedFile, GeneratedFiles

    line = "VALUE_{n} = 'a plain line of generated code, nothing secret in it'\n"
    per_file = 200_000
    files, total, n = [], 0, 0
    while total < megabytes * 1024 * 1024:
        body = "".join(line.format(n=n + i) for i in range(per_file // len(line)))
        files.append(GeneratedFile(path=f"app/module_{n}.py", content=body))
        total += len(body)
        n += 1
    return GeneratedFiles(files=files)


def run_case(kind: str, arg: str, uncapped: bool) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    if kind == "spec":
        from mb_core.errors import MBError
        from mb_core.spec.reading import read_freeform
        from mb_core.submission import spec_text_from_bytes

        shape, n = arg.rsplit(":", 1)
        text = spec_text(shape, int(n))
        try:
            spec_text_from_bytes(text.encode())
            submission = "accepted"
        except MBError as exc:
            submission = f"refused: {str(exc)[:60]}..."
        started, cpu = time.perf_counter(), time.process_time()  # the reader alone, unlimited
        spec = read_freeform(text)
        outcome = (f"{len(spec.entities)} entities, {max(len(e.fields) for e in spec.entities)} "
                   f"fields at most; at submission: {submission}")
    else:
        from mb_core.diff_safety import DiffLimits
        from mb_core.errors import DiffRejected
        from mb_core.workspace import Workspace

        limits = DiffLimits(max_bytes=10**12, max_files=10**6) if uncapped else DiffLimits()
        with tempfile.TemporaryDirectory(prefix="mb-bench-") as tmp:
            ws = Workspace.create(Path(tmp) / "ws")
            patch = ws.render_diff(generated_answer(int(arg)))
            rendered = time.perf_counter() - started
            started, cpu = time.perf_counter(), time.process_time()
            try:
                ws.apply_diff(patch, "bench", limits=limits)
                outcome = "applied"
            except DiffRejected as exc:
                outcome = str(exc)
        outcome = f"rendered {len(patch) / 1e6:.1f} MB in {rendered:.1f} s; gate: {outcome}"
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": round(seconds, 2), "cpu": round(cpu, 2), "max_rss_mb": resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss // 1024, "outcome": outcome}


def in_subprocess(kind: str, arg: str, uncapped: bool) -> dict:
    argv = [sys.executable, __file__, "--case", kind, arg] + (["--uncapped"] if uncapped else [])
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"seconds": None, "cpu": None, "max_rss_mb": None, "outcome": proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", nargs=2, metavar=("KIND", "ARG"), help=argparse.SUPPRESS)
    parser.add_argument("--uncapped", action="store_true",
                        help="also time the whole diff check with the size limits lifted")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(*args.case, uncapped=args.uncapped)))
        return
    print("spec reader (read_freeform; the submission limit is reported, not applied)")
    for shape in ("records listed", "fields listed", "one sentence each"):
        for n in SPEC_SIZES:
            r = in_subprocess("spec", f"{shape}:{n}", False)
            print(f"  {shape:<18} {n:>6} names: {r['seconds']:>7} s ({r['cpu']} s cpu)  "
                  f"{r['max_rss_mb']:>5} MB  "
                  f"{r['outcome']}")
    print("diff gate (Workspace.render_diff, then apply_diff -> vet_patch, as mb check-diff)")
    cases = [(mb, False) for mb in DIFF_MB] + ([(mb, True) for mb in DIFF_MB[1:]]
                                                if args.uncapped else [])
    for mb, uncapped in cases:
        r = in_subprocess("diff", str(mb), uncapped)
        label = "no limit" if uncapped else "default limits"
        print(f"  {mb:>3} MB, {label:<14}: {r['seconds']:>7} s ({r['cpu']} s cpu)  "
              f"{r['max_rss_mb']:>5} MB  "
              f"{r['outcome'][:150]}")

if __name__ == "__main__":
    main()
