"""Throwaway login roles for privilege tests (issue 13: read-only audit, adoption).

Creating a role needs CREATEROLE, which the test role of DT-1 lacks; the
cluster of ``.ci/postgres.sh`` trusts its local superuser ``postgres`` on the
unix socket, so these helpers connect as that user. Without such access the
test is skipped (a failure when ``CI`` is set, like DT-3).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

SUPERUSER = "postgres"


def superuser_conninfo(conninfo: str) -> str:
    return make_conninfo(conninfo, user=SUPERUSER)


@contextlib.contextmanager
def temporary_role(conninfo: str, *statements: str) -> Iterator[str]:
    """A LOGIN role (no other attribute) on ``conninfo``'s database; yields its conninfo.

    ``statements`` run as the superuser in that database, with ``{role}``
    replaced by the role's quoted name (grants, revokes). The role and its
    privileges are dropped afterwards.
    """
    name = f"i13_role_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(superuser_conninfo(conninfo), autocommit=True)
    except psycopg.OperationalError:
        if os.environ.get("CI", ""):
            pytest.fail("privilege tests need the cluster superuser (CI is set)")
        pytest.skip("privilege tests need the local superuser of the test cluster")
    role = sql.Identifier(name)
    try:
        with admin:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
            for statement in statements:
                admin.execute(sql.SQL(statement).format(role=role))
            try:
                yield make_conninfo(conninfo, user=name)
            finally:
                dbname = conninfo_to_dict(conninfo).get("dbname")
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                    (name,),
                )
                admin.execute(sql.SQL("DROP OWNED BY {}").format(role))
                admin.execute(sql.SQL("DROP ROLE {}").format(role))
                assert dbname is not None
    finally:
        admin.close()
