"""``medai-edu hub setup | add-users | start``: the class hub from the command line (run as root)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from medai_edu.hub.settings import DEFAULT_STATE, HubError, HubSettings

OPTIONS = ("ip", "port", "mem_limit", "cpu_limit", "cull_timeout")


def _settings(args: argparse.Namespace) -> HubSettings:
    path = Path(args.root) / "hub" / "settings.json"
    settings = HubSettings.load(path) if path.exists() else HubSettings(root=Path(args.root))
    for name in OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            setattr(settings, name, value)
    return settings


def _run(args: argparse.Namespace) -> int:
    from medai_edu.hub import launch, roster

    try:
        settings = _settings(args)
        if args.action == "add-users":
            members = roster.add_users(settings, Path(args.roster))
            launch.prepare(settings)
            print(
                f"{len(members)} accounts ready ({settings.instructor} is the instructor); "
                f"{len(settings.users)} users may log in. Restart the hub to let new users in."
            )
            return 0
        launch.prepare(settings)
        if args.action == "setup":
            print(f"Hub set up in {settings.root} (settings: {settings.path})")
            return 0
        if not settings.users:  # the hub runs, but lets no one in
            print(
                "No users yet: nobody can log in. Add the class with `sudo make hub ROSTER=roster.csv` "
                "(columns username,role; see deploy/hub/roster.example.csv).",
                file=sys.stderr,
            )
        return launch.run(settings)
    except HubError as error:
        print(f"medai-edu hub: {error}", file=sys.stderr)
        return 2


def add_parser(commands: argparse._SubParsersAction) -> None:
    hub = commands.add_parser("hub", help="a JupyterHub for a class on this machine (as root): setup, add-users, start")
    hub.add_argument("action", choices=["setup", "add-users", "start"])
    hub.add_argument("roster", nargs="?", help="add-users: CSV with the columns username,role (student or instructor)")
    hub.add_argument("--root", default=str(DEFAULT_STATE), help=f"the hub's folders (default {DEFAULT_STATE})")
    hub.add_argument("--ip", default=None, help="address to listen on (default 127.0.0.1: this machine only)")
    hub.add_argument("--port", type=int, default=None, help="port (default 8000)")
    hub.add_argument("--mem-limit", default=None, help="memory per user, e.g. 2G (default 2G)")
    hub.add_argument("--cpu-limit", type=float, default=None, help="CPU cores per user (default 1)")
    hub.add_argument("--cull-timeout", type=int, default=None, help="seconds idle before a server stops (default 3600)")
    hub.set_defaults(run=_check_and_run)


def _check_and_run(args: argparse.Namespace) -> int:
    if args.action == "add-users" and not args.roster:
        print("medai-edu hub add-users: give the roster CSV (columns username,role)", file=sys.stderr)
        return 2
    return _run(args)
