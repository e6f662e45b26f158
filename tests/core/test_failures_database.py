"""Which error chains are a lost database connection (retried) and which are not (a bug)."""

from __future__ import annotations

from mb_core.failures import database_lost

RESTART = ("sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) server closed the connection "
           "unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while "
           "processing the request.\n\n[SQL: SELECT 1]")


def test_a_server_restart_under_a_query_is_a_lost_connection_in_one_line():
    chain = [("OperationalError", RESTART),
             ("OperationalError", ("psycopg2.OperationalError: server closed the connection unexpectedly\n"
                                  "\tThis probably means the server terminated abnormally\n"))]
    assert database_lost(chain) == ("the database connection was lost mid-step (server closed the "
                                    "connection unexpectedly); the attempt is retried")
    assert database_lost(chain[:1]).startswith("the database connection was lost mid-step (server closed")


def test_an_administrator_shutdown_is_a_lost_connection():
    chain = [("AdminShutdown", "terminating connection due to administrator command\n")]
    assert database_lost(chain) is not None


def test_a_wrong_query_or_a_bug_is_not():
    assert database_lost([("ProgrammingError", 'relation "nope" does not exist')]) is None
    assert database_lost([("OperationalError", "no such table: builds")]) is None
    assert database_lost([("RuntimeError", "connection refused by the plan")]) is None
