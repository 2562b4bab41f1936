"""JupyterHub's own upgrade of a database its old models created, for
tests/jupyterhub.rs:

    python alembic_upgrade.py URL

URL is migraph's (sqlite:///abs/path, postgres://..., mysql://...) and names
an empty database. Creates the baseline (baseline.py, which also works
around JupyterHub's 99a28a4418e1) then runs `alembic upgrade head` the way
`jupyterhub upgrade-db` does (jupyterhub.dbutil.upgrade: JupyterHub's
alembic.ini template, written to a temporary directory), in this process.
"""

import importlib.util
import os
import sys


def sqlalchemy_url(url):
    if url.startswith("sqlite://"):  # sqlite://PATH (PATH absolute)
        return "sqlite:///" + url[len("sqlite://"):]
    if url.startswith("postgres://"):
        return "postgresql+psycopg2://" + url[len("postgres://"):]
    if url.startswith("mysql://"):
        return "mysql+pymysql://" + url[len("mysql://"):]
    return url


def main():
    url = sqlalchemy_url(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("jupyterhub_baseline", os.path.join(here, "baseline.py"))
    baseline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(baseline)

    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config
    from jupyterhub.dbutil import _temp_alembic_ini

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        baseline.baseline(connection)
    engine.dispose()
    with _temp_alembic_ini(url) as ini:
        command.upgrade(Config(ini), "head")


if __name__ == "__main__":
    main()
