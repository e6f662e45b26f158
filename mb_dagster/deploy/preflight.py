"""Start-up checks of the services a production profile names: one clear line each, never a hang.

Dagster retries an unreachable PostgreSQL with back-off and then raises a long traceback; a Redis
client waits on a dead host for its socket's default timeout. These checks connect once, with a
short timeout, and turn any failure into one `ServiceUnavailable` line naming the setting.
"""

from __future__ import annotations

from mb_core.errors import InvalidSettings, MBError

CONNECT_TIMEOUT_S = 5


class ServiceUnavailable(MBError):
    """A service a setting names (PostgreSQL, Redis) cannot be reached or refuses us."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def psycopg2_url(url: str) -> str:
    """The URL with the psycopg2 driver (what is installed), the rest unchanged."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidSettings(f"not a database URL: {url!r}") from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise InvalidSettings(f"a PostgreSQL URL is needed here, not {parsed.drivername}://...")
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def check_postgres(url: str, what: str) -> None:
    """Connects once (5 s timeout) to the PostgreSQL database at `url`."""
    import psycopg2
    from sqlalchemy.engine import make_url

    parsed = make_url(psycopg2_url(url))
    shown = parsed.render_as_string(hide_password=True)
    try:
        conn = psycopg2.connect(host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
                                user=parsed.username, password=parsed.password,
                                dbname=parsed.database, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg2.Error as exc:
        raise ServiceUnavailable(f"{what} at {shown} is unavailable: {_one_line(exc)}") from None
    conn.close()


def check_redis(url: str, what: str) -> None:
    """Pings the Redis server at `url` (5 s timeout)."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S,
                                      socket_timeout=CONNECT_TIMEOUT_S)
    except ValueError as exc:
        raise InvalidSettings(f"{what}: not a Redis URL: {url!r} ({_one_line(exc)})") from None
    shown = _redis_shown(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ServiceUnavailable(f"{what} at {shown} is unavailable: {_one_line(exc)}") from None
    finally:
        client.close()


def _redis_shown(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def check_services(settings) -> None:
    """Every service the settings name, checked before anything is written or started."""
    if settings.database_url.startswith(("postgresql", "postgres:")):
        check_postgres(settings.database_url, "the store")
    if settings.dagster_postgres_url:
        check_postgres(settings.dagster_postgres_url, "the Dagster instance's database")
    if settings.redis_url:
        check_redis(settings.redis_url, "MB_REDIS_URL")
    if settings.celery_broker_url:
        check_redis(settings.celery_broker_url, "MB_CELERY_BROKER_URL")


def service_lines(settings) -> list[tuple[bool, str, str]]:
    """`mb doctor`'s lines for the Redis servers the settings name: (ok, what, detail)."""
    lines = []
    for what, url in (("redis", settings.redis_url), ("broker", settings.celery_broker_url)):
        if not url:
            continue
        try:
            check_redis(url, "MB_REDIS_URL" if what == "redis" else "MB_CELERY_BROKER_URL")
        except MBError as exc:
            lines.append((False, what, str(exc)))
        else:
            lines.append((True, what, _redis_shown(url)))
    return lines
