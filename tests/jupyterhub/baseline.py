"""The schema JupyterHub's first Alembic revision assumes, for
`migraph import alembic JUPYTERHUB/alembic --baseline tests/jupyterhub/baseline.py`.

JupyterHub's history starts with `19c0846f6344 base revision for 0.5`,
which is empty: the tables were made by the application's models
(`Base.metadata.create_all` at start-up), and every later table too (no
revision creates `services`, `spawners` or the `oauth_*` tables; revisions
alter them). So the baseline is every table the revisions alter but never
create, in the shape of the JupyterHub release that first created it,
without the columns that later revisions add:

- servers, proxies, hubs, users, api_tokens: JupyterHub 0.6.1's
  jupyterhub/orm.py (the schema `base revision for 0.5` stands for; 0.7
  added api_tokens.service_id and 0.8 users.auth_state by revisions);
- groups, user_group_map, services: JupyterHub 0.7.2's orm.py;
- spawners, oauth_clients, oauth_codes, oauth_access_tokens: 0.8.1's.

(`pip download jupyterhub==0.6.1 --no-deps`, and so on, gives the sources.)

Importing this file also works around two bugs of JupyterHub's revision
99a28a4418e1 (user.created) that stop JupyterHub's own `alembic upgrade`
of any database older than it, with any Python and SQLAlchemy 2:
`datetime.now(timezone.utc)._replace(tzinfo=None)` (datetime has no
`_replace`) and `connection.execute("UPDATE ...")` (SQLAlchemy 2 wants
`text()`). The fixes apply to that revision's module only.
"""

import enum
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy import Boolean, Column, DateTime, Enum, ForeignKey, Integer, MetaData, Table, Text, Unicode

metadata = MetaData()

# 0.6.1
Table(
    "servers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("proto", Unicode(15)),
    Column("ip", Unicode(255)),
    Column("port", Integer),
    Column("base_url", Unicode(255)),
    Column("cookie_name", Unicode(255)),
)
Table(
    "proxies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("_public_server_id", Integer, ForeignKey("servers.id")),
    Column("_api_server_id", Integer, ForeignKey("servers.id")),
)
Table(
    "hubs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("_server_id", Integer, ForeignKey("servers.id")),
)
Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Unicode(1023)),
    Column("_server_id", Integer, ForeignKey("servers.id")),
    Column("admin", Boolean),
    Column("last_activity", DateTime),
    Column("cookie_id", Unicode(1023)),
    Column("state", Text),  # JSONDict: impl = TEXT
)
Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hashed", Unicode(1023)),
    Column("prefix", Unicode(1023)),
    Column("user_id", Integer, ForeignKey("users.id")),
)

# 0.7.2
Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Unicode(1023), unique=True),
)
Table(
    "user_group_map",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id"), primary_key=True),
)
Table(
    "services",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Unicode(1023), unique=True),
    Column("admin", Boolean),
    Column("_server_id", Integer, ForeignKey("servers.id")),
    Column("pid", Integer),
)


# 0.8.1
class GrantType(enum.Enum):
    authorization_code = "authorization_code"
    implicit = "implicit"
    password = "password"
    client_credentials = "client_credentials"
    refresh_token = "refresh_token"


Table(
    "spawners",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
    Column("server_id", Integer, ForeignKey("servers.id", ondelete="SET NULL")),
    Column("state", Text),
    Column("name", Unicode(255)),
    Column("last_activity", DateTime),
)
Table(
    "oauth_clients",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("identifier", Unicode(255), unique=True),
    Column("secret", Unicode(255)),
    Column("redirect_uri", Unicode(1023)),
)
Table(
    "oauth_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", Unicode(255)),
    Column("code", Unicode(36)),
    Column("expires_at", Integer),
    Column("redirect_uri", Unicode(1023)),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
)
Table(
    "oauth_access_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", Unicode(255)),
    Column("grant_type", Enum(GrantType), nullable=False),
    Column("expires_at", Integer),
    Column("refresh_token", Unicode(255)),
    Column("refresh_expires_at", Integer),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
    Column("hashed", Unicode(255), unique=True),
    Column("prefix", Unicode(16), index=True),
)


def baseline(connection):
    """Called by migraph's Alembic driver (and by tests/jupyterhub.rs before
    JupyterHub's own `alembic upgrade`) on the empty database."""
    metadata.create_all(connection)


def _fix_99a28a4418e1(module):
    module.utcnow = lambda: datetime.now(timezone.utc).replace(tzinfo=None)
    bind = module.op.get_bind

    class Bind:
        def __init__(self, conn):
            self._conn = conn

        def __getattr__(self, name):
            return getattr(self._conn, name)

        def execute(self, statement, *args, **kwargs):
            if isinstance(statement, str):
                statement = sa.text(statement)
            return self._conn.execute(statement, *args, **kwargs)

    class Op:
        def __getattr__(self, name):
            return getattr(module.__dict__["_alembic_op"], name)

        @staticmethod
        def get_bind():
            return Bind(bind())

    module._alembic_op = module.op
    module.op = Op()


def _install():
    from alembic import util

    load = util.load_python_file

    def load_python_file(dir_, filename):
        module = load(dir_, filename)
        if getattr(module, "revision", None) == "99a28a4418e1" and not hasattr(module, "_alembic_op"):
            _fix_99a28a4418e1(module)
        return module

    util.load_python_file = load_python_file


_install()
