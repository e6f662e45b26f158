"""`mb replay BUILD [BUILD...]`: re-run past builds from their recorded exchanges."""

from __future__ import annotations

import sys

import click

from mb_dagster.terminal import say


@click.command()
@click.argument("build_ids", nargs=-1, required=True, metavar="BUILD [BUILD...]")
def replay(build_ids: tuple[str, ...]) -> None:
    """Re-run builds from their recorded bundles; exit 1 on drift or a missing exchange."""
    from mb_dagster.cli import _environment, _instance
    from mb_dagster.replay.driver import replay_build

    env = _environment()
    for build_id in build_ids:
        env.store.get_build(build_id)  # every id is known before anything runs
    instance = _instance(env)
    failures = 0
    for build_id in build_ids:
        outcome = replay_build(env, instance, build_id)
        if outcome.error:
            failures += 1
            say(f"{build_id}: replay failed: {outcome.error}")
        elif outcome.drift:
            failures += 1
            say(f"{build_id}: DRIFT: diff sha256 {outcome.replayed_sha256} differs from "
                       f"the original {outcome.original_sha256}")
        else:
            say(f"{build_id}: no drift (diff sha256 {outcome.original_sha256})")
    if failures:
        say(f"{failures} of {len(build_ids)} replays drifted or failed", err=True)
        sys.exit(1)
