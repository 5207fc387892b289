"""The `sandpit` command line: serve, migrate, users and invitations, the OpenAPI document."""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from sandpit.config import Settings
from sandpit.db import migrate
from sandpit.db.engine import create_engine, session_factory
from sandpit.db.models import Role
from sandpit.errors import SandpitError
from sandpit.services import accounts, users


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except SandpitError as exc:
        print(f"sandpit: {exc.detail}", file=sys.stderr)
        return 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sandpit", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server (settings from the environment)")
    serve.add_argument("--host", help="address to listen on (default: HOST setting)")
    serve.add_argument("--port", type=int, help="port to listen on (default: PORT setting)")
    serve.set_defaults(handler=_serve)

    migrate_cmd = commands.add_parser("migrate", help="upgrade the database to the newest schema")
    migrate_cmd.set_defaults(handler=_migrate)

    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("output", type=Path, help="file to write ('-' for standard output)")
    openapi.set_defaults(handler=_openapi)

    backup = commands.add_parser(
        "backup", help="write a backup of the database and the data directory to DEST"
    )
    backup.add_argument(
        "destination",
        type=Path,
        metavar="DEST",
        help="a new file (.tar, or .tar.gz to compress), or a folder to write a dated .tar.gz in",
    )
    backup.add_argument(
        "--include-secrets", action="store_true", help="also back up DATA_DIR/jwt_secret"
    )
    backup.add_argument(
        "--keep", type=int, metavar="N", help="with a folder: delete all but the newest N backups"
    )
    backup.set_defaults(handler=_backup)
    restore = commands.add_parser(
        "restore", help="restore a backup into an empty data directory and database"
    )
    restore.add_argument("source", type=Path, metavar="SRC", help="a file `sandpit backup` wrote")
    restore.set_defaults(handler=_restore)

    service = commands.add_parser(
        "install-service", help="install and start the systemd units of deploy/systemd"
    )
    service.add_argument("--target", type=Path, default=Path("/etc/systemd/system"))
    service.add_argument("--no-start", action="store_true", help="enable, but do not start")
    service.add_argument(
        "--print", action="store_true", help="print the units for this checkout; install nothing"
    )
    service.set_defaults(handler=_install_service)

    user = commands.add_parser("user", help="manage accounts").add_subparsers(
        required=True, metavar="ACTION"
    )
    create = user.add_parser("create", help="create an account")
    create.add_argument("username")
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.USER.value)
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(handler=_user_create)
    role = user.add_parser("set-role", help="change an account's role")
    role.add_argument("username")
    role.add_argument("role", choices=[r.value for r in Role])
    role.set_defaults(handler=_user_set_role)
    imported = user.add_parser(
        "import",
        help="create the accounts of a class list (CSV: username[,password[,role]])",
        description="Rows with no password get a generated one; the output (CSV: "
        "username,password,role,error) is the only place it is shown.",
    )
    imported.add_argument("csv", type=Path, help="the class list ('-' for standard input)")
    imported.set_defaults(handler=_user_import)
    invite = commands.add_parser(
        "invite", help="make an invitation code (for sign-up while SIGNUP_OPEN=false)"
    )
    invite.add_argument("--uses", type=int, default=1, help="accounts it can make (default 1)")
    invite.add_argument(
        "--days", type=float, default=7, help="days until it expires (0: never; default 7)"
    )
    invite.add_argument("--role", choices=[r.value for r in Role], default=Role.USER.value)
    invite.add_argument("--note", default="", help="what it is for, for the admins' list")
    invite.set_defaults(handler=_invite)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sandpit.app import create_app
    from sandpit.fds import raise_open_file_limit
    from sandpit.logs import configure_logging, install_crash_reports

    overrides = {"host": args.host, "port": args.port}
    settings = Settings().model_copy(update={k: v for k, v in overrides.items() if v is not None})
    configure_logging(settings.log_level)
    install_crash_reports(fd_guard=settings.fd_guard)
    raise_open_file_limit()
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        # X-Forwarded-For/-Proto only from the configured proxies: anyone else
        # could forge an address and escape the per-address rate limits.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies),
        ws_max_size=1024 * 1024,
        # Open run streams (SSE) and terminal sockets would otherwise hold a
        # stop for as long as a run may last; clients reconnect and replay.
        timeout_graceful_shutdown=5,
    )
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    async def run() -> str | None:
        engine = create_engine(Settings().effective_database_url())
        try:
            await migrate.upgrade(engine)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    print(f"database at revision {asyncio.run(run())}")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from sandpit.ops.backup import backup, dated_destination, prune

    # SIGTERM (systemctl stop, a timeout) unwinds like Ctrl+C: the workspace
    # being copied is thawed and the partial archive removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    destination = args.destination
    if destination.is_dir():
        destination = dated_destination(destination)
    manifest = backup(Settings(), destination, include_secrets=args.include_secrets)
    size = sum(entry[0] for entry in manifest.files.values())
    print(
        f"backed up {len(manifest.workspaces)} workspaces and {len(manifest.files)} files "
        f"({size / 2**20:.1f} MiB, schema {manifest.schema_revision}) to {destination}"
    )
    if args.keep is not None and args.destination.is_dir():
        for old in prune(args.destination, args.keep):
            print(f"deleted the older backup {old}")
    return 0


def _install_service(args: argparse.Namespace) -> int:
    from sandpit.config import REPO_DIR
    from sandpit.ops import service

    units_dir = REPO_DIR / "deploy" / "systemd"
    if args.print:
        for name, text in service.render_units(REPO_DIR, units_dir).items():
            print(f"# --- {name}\n{text}")
        return 0
    for line in service.install(REPO_DIR, units_dir, args.target, start=not args.no_start):
        print(line)
    return 0


def _restore(args: argparse.Namespace) -> int:
    from sandpit.ops.restore import restore

    manifest = restore(Settings(), args.source)
    print(
        f"restored {len(manifest.workspaces)} workspaces and {len(manifest.files)} files "
        f"from the backup of {manifest.created_at} (schema {manifest.schema_revision}); "
        "the server upgrades the schema at start if it is older"
    )
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from sandpit.app import create_app

    document = json.dumps(create_app(Settings()).openapi(), indent=2, sort_keys=True) + "\n"
    if str(args.output) == "-":
        sys.stdout.write(document)
    else:
        args.output.write_text(document)
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat it: "):
        raise SandpitError("The two passwords differ.")
    return first


def _user_create(args: argparse.Namespace) -> int:
    password = _read_password(args.password_stdin)

    async def run() -> None:
        engine = create_engine(Settings().effective_database_url())
        try:
            await migrate.upgrade(engine)
            async with session_factory(engine)() as db:
                await users.create_user(db, args.username, password, Role(args.role))
        finally:
            await engine.dispose()

    asyncio.run(run())
    print(f"created {args.role} {args.username!r}")
    return 0


def _user_set_role(args: argparse.Namespace) -> int:
    async def run() -> None:
        engine = create_engine(Settings().effective_database_url())
        try:
            async with session_factory(engine)() as db:
                await users.set_role(db, args.username, Role(args.role))
        finally:
            await engine.dispose()

    asyncio.run(run())
    print(f"{args.username!r} is now {args.role}")
    return 0


def _user_import(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if str(args.csv) == "-" else args.csv.read_text(encoding="utf-8")

    async def run() -> list[accounts.Imported]:
        engine = create_engine(Settings().effective_database_url())
        try:
            await migrate.upgrade(engine)
            async with session_factory(engine)() as db:
                return await accounts.import_csv(db, text)
        finally:
            await engine.dispose()

    rows = asyncio.run(run())
    out = csv.writer(sys.stdout)
    out.writerow(["username", "password", "role", "error"])
    for row in rows:
        out.writerow([row.username, row.password or "", row.role, row.error or ""])
    failed = sum(1 for row in rows if row.error)
    print(f"created {len(rows) - failed} accounts, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


def _invite(args: argparse.Namespace) -> int:
    if args.uses < 1:
        raise SandpitError("--uses must be at least 1.")

    async def run() -> str:
        engine = create_engine(Settings().effective_database_url())
        try:
            await migrate.upgrade(engine)
            async with session_factory(engine)() as db:
                made = await accounts.create_invitation(
                    db,
                    None,
                    uses=args.uses,
                    expires_in_s=int(args.days * 86400) or None,
                    role=Role(args.role),
                    note=args.note,
                )
                return made.code
        finally:
            await engine.dispose()

    print(asyncio.run(run()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
