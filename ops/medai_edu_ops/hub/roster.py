"""The class roster: local accounts for every student and the instructor, and the instructor's course folder.

A roster is a CSV file with a header row and the columns ``username`` and ``role`` (``student`` or
``instructor``; exactly one instructor per hub), and optionally ``name`` (printed on the sign-up
slips). Other columns (e-mail, ...) are ignored. Adding and removing people takes effect at once:
the hub reads the account store (:mod:`.accounts`) at every login, and a removed student's server
is stopped through the hub's REST API.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from medai_edu_ops.hub.accounts import Accounts, new_password
from medai_edu_ops.hub.limits import remove_user as remove_cgroups
from medai_edu_ops.hub.settings import USERNAME, HubError, HubSettings

ROLES = ("student", "instructor")
# What the instructor's private course folder holds (copied from the installed course).
FIRST_UID = 1000  # Debian's UID_MIN: accounts below it belong to the system
COURSE_FILES = ("solutions", "course", "nbgrader_config.py", "gradebook.db")


@dataclass(frozen=True)
class Member:
    username: str
    role: str
    name: str = ""  # the person's name, for the sign-up slips


@dataclass
class Added:
    """What ``add-users`` made; the secrets here exist nowhere else in clear (shown once)."""

    members: list[Member]
    codes: dict[str, str] = field(default_factory=dict)  # student -> one-time sign-up code
    instructor_password: str = ""  # generated when the instructor had none yet


def read_roster(path: Path) -> list[Member]:
    """The members of a roster CSV; a clear error names the row and what was expected."""
    path = Path(path)
    if not path.exists():
        raise HubError(f"roster {path} does not exist")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"username", "role"} <= set(rows[0]):
        raise HubError(f"roster {path}: expected a header row with the columns username,role")
    members, seen = [], set()
    for number, row in enumerate(rows, start=2):
        name, role = (row["username"] or "").strip(), (row["role"] or "").strip().lower()
        if not USERNAME.match(name):
            raise HubError(
                f"roster {path}, line {number}: user name {name!r}: expected lower-case letters, digits, '-' or '_' "
                "(a letter first, at most 31 characters)"
            )
        if role not in ROLES:
            raise HubError(f"roster {path}, line {number}: role {role!r}: expected one of {ROLES}")
        if name in seen:
            raise HubError(f"roster {path}, line {number}: {name} is listed twice")
        seen.add(name)
        members.append(Member(name, role, (row.get("name") or "").strip()))
    return members


def _instructor_of(settings: HubSettings, members: list[Member]) -> str:
    named = sorted({m.username for m in members if m.role == "instructor"} | ({settings.instructor} - {""}))
    if len(named) != 1:
        raise HubError(f"a hub has exactly one instructor: the roster and the hub settings name {named or 'none'}")
    return named[0]


def ensure_account(name: str) -> pwd.struct_passwd:
    """A local account with a private home (mode 700); created with useradd when missing.

    An existing system account (uid below 1000: root, daemon, ...) is refused: the hub would start its server."""
    try:
        account = pwd.getpwnam(name)
        if account.pw_uid < FIRST_UID:
            raise HubError(
                f"{name} is a system account (uid {account.pw_uid}): expected a person's account, uid >= {FIRST_UID}"
            )
    except KeyError:
        if os.geteuid() != 0:
            raise HubError(f"creating the account {name} needs root (useradd)") from None
        for _ in range(60):  # exit status 1 or 10: /etc/passwd is locked by another useradd/userdel; wait
            done = subprocess.run(
                ["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", name],
                capture_output=True,
                text=True,
            )
            if done.returncode not in (1, 10):
                break
            time.sleep(0.5)
        if done.returncode:
            raise HubError(f"useradd {name} failed (exit status {done.returncode}): {done.stderr.strip()}") from None
        account = pwd.getpwnam(name)
    os.chmod(account.pw_dir, 0o700)
    return account


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid, follow_symlinks=False)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(Path(folder) / name, uid, gid, follow_symlinks=False)


def set_up_instructor_course(settings: HubSettings, account: pwd.struct_passwd) -> Path:
    """The instructor's private copy of the course (solutions, hidden tests, gradebook): mode 700, theirs.

    Made once; later runs leave it alone (it holds the instructor's gradebook and edits)."""
    target = settings.instructor_course(Path(account.pw_dir))
    if target.is_symlink():
        raise HubError(f"{target} is a symbolic link: expected the instructor's course folder")
    if not target.exists():
        target.mkdir(mode=0o700)
        for name in COURSE_FILES:
            source = settings.course / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            elif source.exists():
                shutil.copy2(source, target / name)
        _chown_tree(target, account.pw_uid, account.pw_gid)
    os.chmod(target, 0o700)
    return target


def add_users(settings: HubSettings, roster: Path) -> Added:
    """Create the roster's accounts and the instructor's course folder; put them in the account store.

    With sign-up codes: each student without a password or a valid code gets a new code, and the
    instructor, if they have no password yet, a generated one. Nothing needs the hub restarted."""
    members = read_roster(roster)
    instructor = _instructor_of(settings, members)
    existing = {a.pw_name: a.pw_uid for a in pwd.getpwall()}
    system = sorted(m.username for m in members if existing.get(m.username, FIRST_UID) < FIRST_UID)
    if system:
        raise HubError(f"roster {roster}: {system} are system accounts (uid < {FIRST_UID}); expected people's accounts")
    for member in members:
        ensure_account(member.username)
    settings.instructor = instructor
    account = pwd.getpwnam(instructor)
    set_up_instructor_course(settings, account)
    course_exchange = settings.exchange / settings.course_id
    if settings.exchange.is_dir():  # the instructor owns the course's exchange (students cannot squat it)
        course_exchange.mkdir(mode=0o755, exist_ok=True)
        os.chown(course_exchange, account.pw_uid, account.pw_gid)
    settings.save()
    accounts = Accounts(settings.accounts_db)
    added = Added(members)
    for member in members:
        role = "instructor" if member.username == instructor else "student"
        accounts.add(member.username, role, member.name)
        known = accounts.member(member.username)
        assert known is not None  # just added
        if settings.authenticator != "codes" or known.has_password:
            continue
        if role == "instructor":
            added.instructor_password = new_password()
            accounts.set_password(instructor, added.instructor_password)
        elif not known.has_live_code():
            added.codes[member.username] = accounts.issue_code(member.username, settings.code_days)
    return added


def reissue_codes(settings: HubSettings, names: list[str]) -> dict[str, str]:
    """New one-time codes for students (a lost slip, a forgotten password); their earlier codes stop working."""
    accounts = Accounts(settings.accounts_db)
    return {name: accounts.issue_code(name, settings.code_days) for name in _on_roster(accounts, names)}


def _on_roster(accounts: Accounts, names: list[str]) -> list[str]:
    unknown = [name for name in names if not accounts.allowed(name)]
    if unknown:
        raise HubError(f"not on the roster: {unknown}; expected names added with `medai-edu hub add-users`")
    return names


def remove_students(settings: HubSettings, names: list[str]) -> bool:
    """Take students off the roster at once: they can no longer log in, their server stops, their files stay.

    Returns whether the running hub stopped their servers; when the hub is not running, it forgets them
    at its next start."""
    accounts = Accounts(settings.accounts_db)
    if settings.instructor in names:
        raise HubError(f"{settings.instructor} is the instructor: the hub needs one (name another in a roster first)")
    for name in _on_roster(accounts, names):
        accounts.remove(name)
    return all([_forget_in_hub(settings, name) for name in names])


def _forget_in_hub(settings: HubSettings, name: str, timeout: float = 120) -> bool:
    """Stop the user's server and delete them from the running hub (their session ends); False if no hub runs."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{settings.api_port}/hub/api/users/{name}",
        method="DELETE",
        headers={"Authorization": f"token {settings.secret('roster_token')}"},
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                return True
        except urllib.error.HTTPError as error:
            if error.code == 404:  # the hub never saw them, or has forgotten them already
                return True
            message = json.loads(error.read() or b"{}").get("message", "")
            if error.code != 400 or "stopping" not in message or time.monotonic() > deadline:
                raise HubError(f"the hub did not remove {name}: HTTP {error.code} {message}") from None
            time.sleep(1)  # the server is still stopping
        except urllib.error.URLError:
            return False  # no hub running


def delete_accounts(names: list[str]) -> None:
    """Delete the local accounts and their homes (tests and load tests clean up their test accounts)."""
    for name in names:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        for _ in range(30):  # userdel refuses while the user has processes, or while another useradd holds the lock
            subprocess.run(["pkill", "-KILL", "-u", name], check=False)
            time.sleep(0.5)
            if subprocess.run(["userdel", "--remove", name], capture_output=True).returncode in (0, 6):
                break  # 6: no such user
        remove_cgroups(name)
