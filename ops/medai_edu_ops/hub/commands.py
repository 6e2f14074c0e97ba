"""``medai-edu hub setup | add-users | remove-users | reissue-codes | password | start`` (run as root)."""

from __future__ import annotations

import argparse
import getpass
import json
import pwd
import sys
from pathlib import Path

from medai_edu_ops.hub.settings import DEFAULT_STATE, HubError, HubSettings

OPTIONS = ("ip", "port", "mem_limit", "cpu_limit", "cull_timeout", "public_url", "code_days")


def _settings(args: argparse.Namespace) -> HubSettings:
    path = Path(args.root) / "hub" / "settings.json"
    settings = HubSettings.load(path) if path.exists() else HubSettings(root=Path(args.root))
    for name in OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            setattr(settings, name, value)
    if getattr(args, "ssl_cert", None) is not None or getattr(args, "ssl_key", None) is not None:
        settings.ssl_cert, settings.ssl_key = args.ssl_cert or "", args.ssl_key or ""
    if getattr(args, "lti", None):
        settings.lti, settings.authenticator = _read_lti(Path(args.lti)), "lti"
    elif getattr(args, "login", None):
        settings.authenticator = args.login
    return HubSettings(**{**settings.__dict__})  # checked again as a whole


def _read_lti(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise HubError(f"LTI settings {path}: {error}; expected a JSON file like deploy/hub/lti.example.json") from None


def _write_codes(settings: HubSettings, codes: dict[str, str], folder: str | None) -> None:
    from medai_edu_ops.hub import sheets
    from medai_edu_ops.hub.accounts import Accounts

    if not codes:
        return
    account = pwd.getpwnam(settings.instructor)
    target = Path(folder) if folder else settings.instructor_course(Path(account.pw_dir)) / "signup-codes"
    owner = None if folder else (account.pw_uid, account.pw_gid)
    table, sheet = sheets.write_codes(target, codes, Accounts(settings.accounts_db), settings.url, owner)
    print(
        f"One-time sign-up codes for {len(codes)} student{'s' * (len(codes) != 1)} (valid {settings.code_days} days), "
        f"for the instructor to hand out:\n  {sheet}  (printable slips)\n  {table}"
    )


def _add_users(settings: HubSettings, args: argparse.Namespace) -> None:
    from medai_edu_ops.hub import launch, roster

    added = roster.add_users(settings, Path(args.roster))
    launch.prepare(settings)
    print(f"{len(added.members)} accounts on the roster ({settings.instructor} is the instructor); no restart needed.")
    if settings.authenticator == "lti":
        print("They log in from the learning platform (LTI): no codes or passwords.")
    _write_codes(settings, added.codes, args.codes_dir)
    if added.instructor_password:
        print(
            f"The instructor {settings.instructor}'s password (shown once, stored only hashed; change it with "
            f"`medai-edu hub password {settings.instructor}`):\n  {added.instructor_password}"
        )


def _remove_users(settings: HubSettings, args: argparse.Namespace) -> None:
    from medai_edu_ops.hub import roster

    running = roster.remove_students(settings, args.names)
    where = "their servers are stopped" if running else "the hub is not running; it forgets them when it starts"
    print(f"Removed {', '.join(args.names)}: they can no longer log in; {where}. Their files stay in their homes.")


def _reissue(settings: HubSettings, args: argparse.Namespace) -> None:
    from medai_edu_ops.hub import roster

    _write_codes(settings, roster.reissue_codes(settings, args.names), args.codes_dir)
    print("Their earlier codes no longer work; a password stays valid until the new code sets a new one.")


def _password(settings: HubSettings, args: argparse.Namespace) -> None:
    from medai_edu_ops.hub.accounts import Accounts

    if sys.stdin.isatty():
        password = getpass.getpass(f"New password for {args.name}: ")
        if getpass.getpass("Again: ") != password:
            raise HubError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    Accounts(settings.accounts_db).set_password(args.name, password)
    print(f"Password of {args.name} set (stored hashed).")


def _start(settings: HubSettings, args: argparse.Namespace) -> int:
    from medai_edu_ops.hub import launch
    from medai_edu_ops.hub.accounts import Accounts

    locked = launch.prepare(settings)
    if locked:
        print(f"Students must not read these, so only their owner may now: {', '.join(map(str, locked))}")
    if args.action == "setup":
        print(f"Hub set up in {settings.root} (settings: {settings.path}); login: {settings.authenticator}")
        return 0
    if not Accounts(settings.accounts_db).members():  # the hub runs, but lets no one in
        print(
            "No users yet: nobody can log in. Add the class with `sudo make hub ROSTER=roster.csv` "
            "(columns username,role; see deploy/hub/roster.example.csv).",
            file=sys.stderr,
        )
    return launch.run(settings)


ACTIONS = {"add-users": _add_users, "remove-users": _remove_users, "reissue-codes": _reissue, "password": _password}


def _run(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
        if args.action in ACTIONS:
            ACTIONS[args.action](settings, args)
            return 0
        return _start(settings, args)
    except HubError as error:
        print(f"medai-edu hub {args.action}: {error}", file=sys.stderr)
        return 2


def add_parser(commands: argparse._SubParsersAction) -> None:
    hub = commands.add_parser(
        "hub", help="a JupyterHub for a class on this machine (as root): setup, add-users, remove-users, start, ..."
    )
    actions = hub.add_subparsers(dest="action", required=True, metavar="ACTION")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=str(DEFAULT_STATE), help=f"the hub's folders (default {DEFAULT_STATE})")
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--ip", default=None, help="address to listen on (default 127.0.0.1: this machine only)")
    options.add_argument("--port", type=int, default=None, help="port (default 8000)")
    options.add_argument("--ssl-cert", default=None, help="HTTPS: the certificate chain, PEM ('' switches HTTPS off)")
    options.add_argument("--ssl-key", default=None, help="HTTPS: its private key, PEM, mode 600")
    options.add_argument("--public-url", default=None, help="the address students open, for the sign-up slips")
    options.add_argument("--lti", default=None, help="log in from the learning platform: a JSON file of LTI settings")
    options.add_argument("--login", choices=["codes", "lti"], default=None, help="how people log in (default codes)")
    options.add_argument("--code-days", type=int, default=None, help="days a sign-up code stays valid (default 14)")
    options.add_argument("--mem-limit", default=None, help="memory per user, e.g. 2G (default 2G)")
    options.add_argument("--cpu-limit", type=float, default=None, help="CPU cores per user (default 1)")
    options.add_argument("--cull-timeout", type=int, default=None, help="seconds idle before a server stops (3600)")
    codes = argparse.ArgumentParser(add_help=False)
    codes.add_argument(
        "--codes-dir", default=None, help="where the sign-up codes go (default: the instructor's ~/medai-edu-course)"
    )
    actions.add_parser("setup", parents=[common, options], help="the hub's folders and settings")
    add = actions.add_parser("add-users", parents=[common, codes], help="accounts from a roster CSV; sign-up codes")
    add.add_argument("roster", help="CSV with the columns username,role (student or instructor), optionally name")
    remove = actions.add_parser("remove-users", parents=[common], help="students out at once; their files stay")
    remove.add_argument("names", nargs="+")
    reissue = actions.add_parser("reissue-codes", parents=[common, codes], help="new sign-up codes for students")
    reissue.add_argument("names", nargs="+")
    password = actions.add_parser(
        "password", parents=[common], help="set a password (asked twice; or one line on standard input)"
    )
    password.add_argument("name")
    actions.add_parser("start", parents=[common, options], help="start the hub (Ctrl+C stops it)")
    hub.set_defaults(run=_run)
