"""`mb breakers` and `mb chaos stats`: the healing machinery's state, read from the store."""

from __future__ import annotations

import click

from mb_core.settings import Settings


def _store():
    from mb_core.pipeline import BuildEnvironment

    return BuildEnvironment.open(Settings.from_env()).store


@click.command()
@click.option("--reset", "reset", metavar="NAME", help="Close this breaker and zero its counters.")
def breakers(reset: str | None) -> None:
    """List the circuit breakers (one per failure class), or reset one."""
    from mb_core.breakers import BREAKER_NAMES, breaker_views

    store = _store()
    if reset:
        record = store.reset_breaker(reset, known=BREAKER_NAMES)
        click.echo(f"reset {record.name}: {record.state.value}")
        return
    click.echo(f"{'breaker':<20} {'state':<10} {'failures':>8}  reopens")
    for view in breaker_views(store):
        when = f"{view.reopens_at:%Y-%m-%d %H:%M:%S} UTC" if view.reopens_at else "-"
        click.echo(f"{view.name:<20} {view.state.value:<10} {view.failures:>8}  {when}")


@click.group()
def chaos() -> None:
    """Injected faults and how their builds ended."""


@chaos.command()
def stats() -> None:
    """Per seam and fault: injected, recovered, not recovered, still open."""
    table = _store().chaos_stats()
    if not table:
        click.echo("no chaos events recorded (META_V4_CHAOS_ENABLED=1 turns the injector on)")
        return
    click.echo(f"{'seam/fault':<32} {'injected':>8} {'recovered':>9} {'lost':>5} {'open':>5}")
    seams: dict[str, dict[str, int]] = {}
    for key, row in table.items():
        click.echo(f"{key:<32} {row['injected']:>8} {row['recovered']:>9} {row['not_recovered']:>5} "
                   f"{row['open']:>5}")
        total = seams.setdefault(key.split("/", 1)[0], dict.fromkeys(row, 0))
        for column, count in row.items():
            total[column] += count
    for seam, row in seams.items():
        click.echo(f"{seam + ' (all faults)':<32} {row['injected']:>8} {row['recovered']:>9} "
                   f"{row['not_recovered']:>5} {row['open']:>5}")
