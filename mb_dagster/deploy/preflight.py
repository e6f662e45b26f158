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


def _same_database(a: str, b: str) -> bool:
    from sqlalchemy.engine import make_url

    ua, ub = make_url(psycopg2_url(a)), make_url(psycopg2_url(b))
    return ((ua.host or "127.0.0.1"), ua.port or 5432, ua.database) == \
        ((ub.host or "127.0.0.1"), ub.port or 5432, ub.database)


def _instance_postgres_url(config) -> str | None:
    """The database URL an instance file names outright (None: it reads MB_DAGSTER_POSTGRES_URL)."""
    import yaml

    postgres = ((yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("storage") or {}) \
        .get("postgres") or {}
    url = postgres.get("postgres_url")
    if isinstance(url, str):
        return url
    db = postgres.get("postgres_db")
    if isinstance(db, dict) and all(isinstance(db.get(k), str) for k in ("hostname", "db_name")):
        return f"postgresql://{db.get('username') or 'postgres'}@{db['hostname']}:{db.get('port') or 5432}/{db['db_name']}"
    return None


def check_run_worker(settings) -> None:
    """A Celery run worker's start-up: the services it needs answer, and its store and Dagster
    instance are the shared ones the daemon queues runs from. A worker on another instance would
    take runs off the broker that its instance has never heard of and fail each one."""
    from mb_dagster.instance import prepare_dagster_home

    if not settings.celery_broker_url:
        raise InvalidSettings("a run worker needs the Redis broker: set MB_CELERY_BROKER_URL")
    if not settings.dagster_postgres_url:
        raise InvalidSettings("a run worker needs the shared Dagster instance: set MB_DAGSTER_POSTGRES_URL")
    if not settings.database_url.startswith(("postgresql", "postgres:")):
        raise InvalidSettings("a run worker needs the shared store: MB_DATABASE_URL is a local SQLite "
                              "file, where the daemon's builds are not")
    check_services(settings)
    config = prepare_dagster_home(settings) / "dagster.yaml"
    named = _instance_postgres_url(config)
    if named and not _same_database(named, settings.dagster_postgres_url):
        raise InvalidSettings(f"{config} names another instance's database "
                              f"({psycopg2_url(named).split('@')[-1]}) than MB_DAGSTER_POSTGRES_URL "
                              f"({psycopg2_url(settings.dagster_postgres_url).split('@')[-1]})")
    _check_store_matches_instance(settings)


def _check_store_matches_instance(settings) -> None:
    """The store's latest launched builds must be partitions of the instance: a store and an
    instance of two deployments share no build."""
    import sqlalchemy as sa

    from mb_core.store.tables import builds
    from mb_dagster.partitions import builds_partitions

    store = sa.create_engine(psycopg2_url(settings.database_url), connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    dagster = sa.create_engine(psycopg2_url(settings.dagster_postgres_url),
                               connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        with store.connect() as conn:
            if not sa.inspect(conn).has_table("builds"):
                return  # a new store: nothing to compare yet
            launched = [r.id for r in conn.execute(
                sa.select(builds.c.id).where(builds.c.status != "submitted")
                .order_by(builds.c.created_at.desc()).limit(20))]
        if not launched:
            return
        with dagster.connect() as conn:
            if not sa.inspect(conn).has_table("dynamic_partitions"):
                known = 0
            else:
                known = conn.execute(sa.text(
                    "SELECT count(*) FROM dynamic_partitions WHERE partitions_def_name = :name "
                    "AND partition = ANY(:keys)"), {"name": builds_partitions.name, "keys": launched}).scalar()
    finally:
        store.dispose()
        dagster.dispose()
    if not known:
        shown = psycopg2_url(settings.dagster_postgres_url).split("@")[-1]
        raise InvalidSettings(f"the Dagster instance at {shown} has never run any of the store's "
                              f"{len(launched)} latest builds: the store and the instance belong to "
                              "two deployments (check MB_DATABASE_URL and MB_DAGSTER_POSTGRES_URL)")
