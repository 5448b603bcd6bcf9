"""The `cloudgate` command: serve, database upgrades, operator chores."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cloudgate.config import Settings, load_settings

ROLES = {"user": 0, "admin": 1, "domain-admin": 2}


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="state directory (default ~/.cloudgate)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in the data dir)")
    parser.add_argument("--config", type=Path, help="TOML config file")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloudgate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the CloudStack, EC2 and S3 endpoints")
    _common(serve)
    serve.add_argument("--host")
    serve.add_argument("--native-port", type=int)
    serve.add_argument("--ec2-port", type=int)
    serve.add_argument("--s3-port", type=int)
    serve.add_argument("--s3-tls-certfile", help="PEM certificate: serve S3 over HTTPS")
    serve.add_argument("--s3-tls-keyfile", help="PEM private key of --s3-tls-certfile")
    serve.add_argument("--metadata-port", type=int)
    serve.add_argument("--metadata-host", help="metadata service bind address (default: --host)")
    serve.add_argument("--metadata-identify-by", choices=["source-ip", "header"])
    serve.add_argument("--metadata-http-tokens", choices=["optional", "required"])
    serve.add_argument("--object-store", choices=["local", "swift"])
    serve.add_argument("--swift-auth-url")
    serve.add_argument("--swift-user")
    serve.add_argument("--swift-key")
    serve.add_argument("--region")
    serve.add_argument("--job-workers", type=int)
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.add_argument(
        "--no-demo-zone",
        dest="demo_zone",
        action="store_false",
        default=None,
        help="do not create the demo zone on first start",
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    _common(db_commands.add_parser("upgrade", help="apply schema migrations"))

    user = commands.add_parser("user", help="accounts and API keys")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    create = user_commands.add_parser("create", help="create an account and user, print keys")
    _common(create)
    create.add_argument("--account", required=True)
    create.add_argument("--username", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--role", choices=sorted(ROLES), default="user")
    create.add_argument("--domain", default="/", help="domain path, e.g. / or /sales/")
    create.add_argument("--email", default="")
    keys = user_commands.add_parser("keys", help="print a user's API keys (creating them)")
    _common(keys)
    keys.add_argument("--username", required=True)
    keys.add_argument("--domain", default="/")

    env = commands.add_parser(
        "env", help="print shell exports that point aws and cs at this cloudgate as admin"
    )
    _common(env)
    env.add_argument("--host")
    env.add_argument("--native-port", type=int)
    env.add_argument("--ec2-port", type=int)
    env.add_argument("--s3-port", type=int)
    env.add_argument("--username", default="admin")
    env.add_argument("--domain", default="/")

    _instance_types_parser(commands)

    simulator = commands.add_parser("simulator", help="simulated hypervisor behaviour")
    sim_commands = simulator.add_subparsers(dest="sim_command", required=True)
    configure = sim_commands.add_parser("configure", help="latency and failures per operation")
    configure.add_argument("--data-dir", type=Path)
    configure.add_argument(
        "--operation", required=True, choices=["start", "stop", "reboot", "destroy"]
    )
    configure.add_argument("--latency-ms", type=int, default=0)
    configure.add_argument("--fail-next", type=int, default=0)
    configure.add_argument("--fail-always", action="store_true")
    reset = sim_commands.add_parser("reset", help="back to instant, always-succeeding operations")
    reset.add_argument("--data-dir", type=Path)
    return parser


def _instance_types_parser(commands: Any) -> None:
    types = commands.add_parser(
        "instance-types", help="the EC2 instance type names and the service offerings behind them"
    )
    type_commands = types.add_subparsers(dest="types_command", required=True)
    _common(type_commands.add_parser("list", help="print the mapping as JSON"))
    assign = type_commands.add_parser("set", help="map a name to a service offering")
    _common(assign)
    assign.add_argument("name", help="instance type name, e.g. t2.micro")
    assign.add_argument("--offering", required=True, help="service offering name or uuid")
    remove = type_commands.add_parser("remove", help="forget a name")
    _common(remove)
    remove.add_argument("name")


def _settings(args: argparse.Namespace) -> Settings:
    flags: dict[str, Any] = {
        key: value
        for key, value in vars(args).items()
        if key
        not in (
            "command",
            "config",
            "db_command",
            "user_command",
            "sim_command",
            "types_command",
            "name",
            "offering",
            "username",
            "domain",
        )
    }
    known = set(Settings.__dataclass_fields__)
    return load_settings({k: v for k, v in flags.items() if k in known}, config_file=args.config)


def _database(settings: Settings) -> Any:
    from core.db import Database
    from core.schema import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.resolved_database_url)
    upgrade(database)
    return database


def _print_keys(user: Any) -> None:
    print(
        json.dumps(
            {"username": user.username, "apikey": user.api_key, "secretkey": user.secret_key},
            indent=2,
        )
    )


def _user_create(args: argparse.Namespace) -> None:
    import sqlalchemy as sa

    from core.context import Role
    from core.identity import Account, Domain, create_account, create_user, register_keys

    database = _database(_settings(args))
    with database.write() as session:
        domain = session.scalar(sa.select(Domain).where(Domain.path == args.domain))
        if domain is None:
            raise SystemExit(f"cloudgate: no domain {args.domain} (start the server once first)")
        account = session.scalar(
            sa.select(Account).where(Account.domain_id == domain.id, Account.name == args.account)
        )
        if account is None:
            _, user = create_account(
                session,
                name=args.account,
                domain=domain,
                role=Role(ROLES[args.role]),
                username=args.username,
                password=args.password,
                email=args.email,
            )
        else:
            user = create_user(
                session,
                account=account,
                username=args.username,
                password=args.password,
                email=args.email,
            )
        register_keys(session, user)
        _print_keys(user)


def _user_keys(args: argparse.Namespace) -> None:
    from core.identity import find_user, register_keys

    database = _database(_settings(args))
    with database.write() as session:
        user = find_user(session, username=args.username, domain_path=args.domain)
        if not user.api_key:
            register_keys(session, user)
        _print_keys(user)


def _env(args: argparse.Namespace) -> None:
    from core.identity import find_user

    settings = _settings(args)
    database = _database(settings)
    with database.read() as session:
        user = find_user(session, username=args.username, domain_path=args.domain)
    base = f"http://{settings.host}"
    exports = {
        "AWS_ACCESS_KEY_ID": user.api_key,
        "AWS_SECRET_ACCESS_KEY": user.secret_key,
        "AWS_DEFAULT_REGION": settings.region,
        "AWS_ENDPOINT_URL_EC2": f"{base}:{settings.ec2_port}",
        "AWS_ENDPOINT_URL_STS": f"{base}:{settings.ec2_port}",  # GetCallerIdentity, same port
        "AWS_ENDPOINT_URL_S3": f"{settings.s3_scheme}://{settings.host}:{settings.s3_port}",
        "CLOUDSTACK_ENDPOINT": f"{base}:{settings.native_port}/client/api",
        "CLOUDSTACK_KEY": user.api_key,
        "CLOUDSTACK_SECRET": user.secret_key,
    }
    for name, value in exports.items():
        print(f"export {name}='{value}'")


def _instance_types(args: argparse.Namespace) -> None:
    from core import instance_types

    database = _database(_settings(args))
    with database.write() as session:
        if args.types_command == "set":
            instance_types.set_size(session, args.name, args.offering)
        elif args.types_command == "remove":
            instance_types.remove_size(session, args.name)
        rows = [
            {"name": row.name, "offering": offering.name, "offeringid": offering.uuid,
             "cpunumber": offering.cpu_number, "memory": offering.memory_mb}
            for row, offering in instance_types.list_sizes(session)
        ]  # fmt: skip
    print(json.dumps(rows, indent=2))


def _simulator(args: argparse.Namespace) -> None:
    from drivers.hypervisor.simulator import SimulatorDriver

    settings = load_settings({"data_dir": args.data_dir})
    simulator = SimulatorDriver(settings.data_dir / "simulator.db")
    if args.sim_command == "reset":
        simulator.reset()
    else:
        simulator.configure(
            args.operation,
            latency_ms=args.latency_ms,
            fail_next=args.fail_next,
            fail_always=args.fail_always,
        )


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            from cloudgate.server import serve

            serve(_settings(args))
        elif args.command == "db":
            from core.schema import current_revision

            print(f"database at revision {current_revision(_database(_settings(args)))}")
        elif args.command == "user":
            (_user_create if args.user_command == "create" else _user_keys)(args)
        elif args.command == "env":
            _env(args)
        elif args.command == "instance-types":
            _instance_types(args)
        elif args.command == "simulator":
            _simulator(args)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # an operator sees one line, not a traceback
        from core.errors import CloudgateError

        if isinstance(error, CloudgateError | ValueError):
            raise SystemExit(f"cloudgate: {error}") from None
        raise


if __name__ == "__main__":
    main()
