"""migraph's Alembic driver: captures the SQL of each Alembic revision.

Run by `migraph import alembic` with the project's own Python (the one that
has Alembic, SQLAlchemy and the project's modules):

    python3 alembic_driver.py REQUEST.json RESULT.json

It runs the project's migrations online on a scratch database, one
revision at a time (upgrade in order, then downgrade in reverse), and
records every statement Alembic sends through SQLAlchemy (the
`after_cursor_execute` event: statements that succeeded), with bound parameters rendered as literals.
Reads (SELECT, PRAGMA without `=`, SHOW, ...) and the alembic_version
bookkeeping are left out. A step that fails stops the online run; the
steps not captured are then rendered offline (`alembic upgrade A:B --sql`)
where Alembic can, else reported with the reason.

The request names the script directory, the config file (optional, for
logging), the dialect and either a SQLite file or a server URL (a
temporary database is created there and always dropped).

With a baseline (`--baseline FILE[:FUNCTION]`), FILE is imported first and
FUNCTION (default `baseline`) is called with a SQLAlchemy connection on the
empty scratch database before the first revision (the request's root,
moved to the front of the order): it creates the schema
the history's root revision assumes (what the application's models made
before the history began). Its statements are captured as `baseline.up`;
after the downgrade of the root, FILE's `FUNCTION_down(connection)` when it
has one, else a drop of the tables the baseline created, is captured as
`baseline.down`.
"""

import contextlib
import datetime
import decimal
import io
import json
import os
import re
import sys
import traceback
import uuid


def main():
    request_path, result_path = sys.argv[1], sys.argv[2]
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    result = {"error": None, "revisions": {}, "baseline": None, "order": []}
    try:
        run(request, result)
    except BaseException as e:  # the Rust side reports it
        result["error"] = "".join(traceback.format_exception_only(type(e), e)).strip()
        result["traceback"] = traceback.format_exc()
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump(result, f)


def sqlalchemy_url(url):
    """postgres://… and mysql://… as SQLAlchemy names them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            # SQLAlchemy 2.1 defaults to psycopg (3): use the driver there is.
            for module, scheme in (("psycopg2", "postgresql+psycopg2://"), ("psycopg", "postgresql+psycopg://")):
                try:
                    __import__(module)
                    return scheme + url[len(prefix):]
                except ImportError:
                    pass
            return "postgresql://" + url[len(prefix):]
    for prefix in ("mysql://", "mariadb://"):
        if url.startswith(prefix):
            try:
                import pymysql  # noqa: F401

                return "mysql+pymysql://" + url[len(prefix):]
            except ImportError:
                return "mysql://" + url[len(prefix):]
    return url


@contextlib.contextmanager
def scratch_database(request):
    """Yields the SQLAlchemy URL of an empty database, dropped afterwards."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    if request["dialect"] == "sqlite":
        path = request["sqlite_path"]
        if os.path.exists(path):
            os.remove(path)
        yield "sqlite:///" + path
        return
    server = make_url(sqlalchemy_url(request["server"]))
    name = "migraph_alembic_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    q = admin.dialect.identifier_preparer.quote
    with admin.connect() as conn:
        conn.exec_driver_sql("CREATE DATABASE " + q(name))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if request["dialect"] == "postgres":
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %(n)s AND pid <> pg_backend_pid()",
                    {"n": name},
                )
            conn.exec_driver_sql("DROP DATABASE " + q(name))
        admin.dispose()


READ_ONLY = re.compile(r"^\s*(SELECT|SHOW|DESCRIBE|DESC|EXPLAIN|WITH)\b", re.I)


def is_read(statement):
    if READ_ONLY.match(statement):
        return True
    # PRAGMA table_info(...) reads; PRAGMA foreign_keys = OFF changes.
    return bool(re.match(r"^\s*PRAGMA\b", statement, re.I)) and "=" not in statement


def literal(value, dialect):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        if dialect == "postgres":
            return "true" if value else "false"
        return "1" if value else "0"
    if isinstance(value, (int, float, decimal.Decimal)):
        return repr(value) if not isinstance(value, decimal.Decimal) else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value).hex()
        return "'\\x%s'::bytea" % data if dialect == "postgres" else "X'%s'" % data
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        value = value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
    text = str(value).replace("'", "''")
    if dialect == "mysql":
        text = text.replace("\\", "\\\\")
    return "'%s'" % text


def render(statement, parameters, paramstyle, dialect):
    """The statement with its parameters written in as literals."""
    if not parameters:
        return statement
    if isinstance(parameters, dict):
        if paramstyle in ("pyformat", "format"):
            return statement % {k: literal(v, dialect) for k, v in parameters.items()}
        if paramstyle == "named":
            return re.sub(
                r":(\w+)", lambda m: literal(parameters[m.group(1)], dialect) if m.group(1) in parameters else m.group(0), statement
            )
        raise ValueError("cannot render %s parameters" % paramstyle)
    values = [literal(v, dialect) for v in parameters]
    if paramstyle in ("format", "pyformat"):
        return statement % tuple(values)
    if paramstyle == "qmark":
        out, it, quote = [], iter(values), None
        for ch in statement:
            if quote:
                quote = None if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            elif ch == "?":
                out.append(next(it))
                continue
            out.append(ch)
        return "".join(out)
    if paramstyle == "numeric":
        return re.sub(r":(\d+)", lambda m: values[int(m.group(1)) - 1], statement)
    raise ValueError("cannot render %s parameters" % paramstyle)


def no_batching(connection, *args):
    connection.dialect.use_insertmanyvalues = False
    connection.dialect.use_insertmanyvalues_wo_returning = False


class Recorder:
    def __init__(self, dialect):
        self.dialect = dialect
        self.statements = None

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if self.statements is None or is_read(statement) or "alembic_version" in statement:
            return
        paramstyle = conn.dialect.paramstyle
        sets = parameters if executemany else [parameters]
        for params in sets:
            sql = render(statement, params, paramstyle, self.dialect).strip().rstrip(";")
            self.statements.append(sql + ";")

    @contextlib.contextmanager
    def capture(self):
        self.statements = []
        try:
            yield self.statements
        finally:
            self.statements = None


def make_config(request, url):
    from alembic.config import Config

    config_file = request.get("config_file")
    cfg = Config(config_file) if config_file else Config()
    cfg.set_main_option("script_location", request["script_location"])
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if not config_file:
        cfg.config_file_name = write_logging_ini()
    return cfg


def write_logging_ini():
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".ini", prefix="migraph_alembic_")
    with os.fdopen(fd, "w") as f:
        f.write(
            "[alembic]\n[loggers]\nkeys = root\n[handlers]\nkeys = null\n[formatters]\nkeys =\n"
            "[logger_root]\nlevel = WARN\nhandlers = null\n[handler_null]\nclass = NullHandler\nargs = ()\n"
        )
    return path


def quiet():
    """Migrations and env.py may print: keep stdout for nobody."""
    return contextlib.redirect_stdout(io.StringIO())


def run(request, result):
    for path in request.get("sys_path", []):
        if path not in sys.path:
            sys.path.insert(0, path)
    baseline = load_baseline(request.get("baseline"))
    from alembic.script import ScriptDirectory
    import sqlalchemy as sa

    dialect = request["dialect"]
    recorder = Recorder(dialect)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", recorder)
    # One statement per row for bulk inserts (no driver-specific batching),
    # so every row is rendered as an ordinary INSERT.
    sa.event.listen(sa.engine.Engine, "engine_connect", no_batching)

    with scratch_database(request) as url:
        cfg = make_config(request, url)
        script = ScriptDirectory.from_config(cfg)
        # walk_revisions goes from the heads down: reversed, an apply order.
        order = [s.revision for s in reversed(list(script.walk_revisions("base", "heads")))]
        root = (request.get("baseline") or {}).get("root")
        if baseline is not None and root in order:
            # The baseline's root first (a root needs nothing before it).
            order.remove(root)
            order.insert(0, root)
        result["order"] = order
        revisions = {rev: {"up": None, "down": None, "up_error": None, "down_error": None} for rev in order}
        result["revisions"] = revisions
        created = []
        if baseline is not None:
            result["baseline"] = {"up": None, "down": None, "down_error": None}
            with recorder.capture() as statements, quiet():
                created = run_baseline(url, baseline)
            result["baseline"]["up"] = list(statements)
        upgrade_each(cfg, recorder, order, revisions)
        # Down, from what the upgrade reached.
        applied = [rev for rev in order if revisions[rev]["up"] is not None]
        for rev in order:
            if revisions[rev]["up"] is None:
                revisions[rev]["down_error"] = "not tried: its upgrade failed or was not reached"
        if downgrade_each(cfg, recorder, applied, revisions) and baseline is not None:
            if applied != order:
                result["baseline"]["down_error"] = "not tried: the upgrade did not reach every revision"
            else:
                try:
                    with recorder.capture() as statements, quiet():
                        undo_baseline(url, baseline, created)
                    result["baseline"]["down"] = list(statements)
                except Exception as e:
                    result["baseline"]["down_error"] = one_line(e)
        elif baseline is not None:
            result["baseline"]["down_error"] = "not tried: a downgrade failed before the root's"
        offline_each(cfg, order, revisions)


def load_baseline(spec):
    """(module, function name) of the baseline, imported now (so that what
    it sets up at import applies to the whole run), or None."""
    if not spec:
        return None
    import importlib.util

    path, function = spec["path"], spec.get("function") or "baseline"
    directory = os.path.dirname(os.path.abspath(path))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    name = "migraph_baseline_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ValueError("baseline %s: not a Python file" % path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    if not callable(getattr(module, function, None)):
        raise ValueError("baseline %s has no function %s(connection)" % (path, function))
    return module, function


def table_names(connection):
    import sqlalchemy as sa

    return set(sa.inspect(connection).get_table_names())


def run_baseline(url, baseline):
    """Runs the baseline in one transaction; returns the tables it made."""
    import sqlalchemy as sa

    module, function = baseline
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            before = table_names(conn)
            getattr(module, function)(conn)
            return sorted(table_names(conn) - before)
    finally:
        engine.dispose()


def undo_baseline(url, baseline, created):
    """The baseline's own `<function>_down(connection)`, else a drop of the
    tables it created that are still there (foreign keys first)."""
    import sqlalchemy as sa

    module, function = baseline
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            down = getattr(module, function + "_down", None)
            if callable(down):
                down(conn)
                return
            there = [t for t in created if t in table_names(conn)]
            if not there:
                return
            metadata = sa.MetaData()
            metadata.reflect(conn, only=there)
            metadata.drop_all(conn)
    finally:
        engine.dispose()


def upgrade_each(cfg, recorder, order, revisions):
    from alembic import command

    for rev in order:
        try:
            with recorder.capture() as statements, quiet():
                command.upgrade(cfg, rev)
            revisions[rev]["up"] = list(statements)
        except Exception as e:
            revisions[rev]["up_error"] = one_line(e)
            for later in order[order.index(rev) + 1:]:
                revisions[later]["up_error"] = "not reached: revision %s failed before it" % rev
            return False
    return True


def downgrade_each(cfg, recorder, order, revisions):
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(cfg)
    for rev in reversed(order):
        parents = script.get_revision(rev).down_revision
        parents = [] if parents is None else [parents] if isinstance(parents, str) else list(parents)
        try:
            with quiet():
                command.stamp(cfg, rev, purge=True)
            with recorder.capture() as statements, quiet():
                command.downgrade(cfg, parents[0] if parents else "base")
            revisions[rev]["down"] = list(statements)
        except Exception as e:
            revisions[rev]["down_error"] = one_line(e)
            for earlier in reversed(order[: order.index(rev)]):
                revisions[earlier]["down_error"] = "not reached: the downgrade of %s failed before it" % rev
            return False
    return True


def offline_each(cfg, order, revisions):
    """Renders offline (`alembic upgrade A:B --sql`) each step the online
    run could not capture, where Alembic can: one parent or none."""
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(cfg)
    for rev in order:
        parents = script.get_revision(rev).down_revision
        parents = [] if parents is None else [parents] if isinstance(parents, str) else list(parents)
        if len(parents) > 1:
            continue
        for direction, target in (("up", "%s:%s" % (parents[0], rev) if parents else rev),
                                  ("down", "%s:%s" % (rev, parents[0] if parents else "base"))):
            if revisions[rev][direction] is not None:
                continue
            buffer = io.StringIO()
            cfg.output_buffer = buffer
            try:
                with quiet():
                    if direction == "up":
                        command.upgrade(cfg, target, sql=True)
                    else:
                        command.downgrade(cfg, target, sql=True)
            except Exception as e:
                revisions[rev][direction + "_error"] += "; offline: " + one_line(e)
                continue
            finally:
                cfg.output_buffer = None
            revisions[rev][direction] = offline_statements(buffer.getvalue())
            revisions[rev][direction + "_offline"] = True


def offline_statements(script):
    out = []
    for block in re.split(r";\s*\n\s*\n", script):
        lines = [l for l in block.splitlines() if not l.strip().startswith("--")]
        sql = "\n".join(lines).strip().rstrip(";").strip()
        if not sql or sql.upper() in ("BEGIN", "COMMIT", "BEGIN TRANSACTION", "START TRANSACTION") or "alembic_version" in sql:
            continue
        out.append(sql + ";")
    return out


def one_line(e):
    text = "".join(traceback.format_exception_only(type(e), e)).strip()
    return " ".join(text.split())[:500]


if __name__ == "__main__":
    main()
