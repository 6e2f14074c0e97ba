"""The class roster: local accounts for every student and the instructor, and the instructor's course folder.

A roster is a CSV file with a header row and the columns ``username`` and ``role`` (``student`` or
``instructor``; exactly one instructor per hub). Other columns (names, e-mail) are ignored.
"""

from __future__ import annotations

import csv
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from medai_edu.hub.limits import remove_user as remove_cgroups
from medai_edu.hub.settings import USERNAME, HubError, HubSettings

ROLES = ("student", "instructor")
# What the instructor's private course folder holds (copied from the installed course).
FIRST_UID = 1000  # Debian's UID_MIN: accounts below it belong to the system
COURSE_FILES = ("solutions", "course", "nbgrader_config.py", "gradebook.db")


@dataclass(frozen=True)
class Member:
    username: str
    role: str


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
        members.append(Member(name, role))
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


def add_users(settings: HubSettings, roster: Path) -> list[Member]:
    """Create the roster's accounts, the instructor's course folder and the allow-list (saved settings)."""
    members = read_roster(roster)
    instructor = _instructor_of(settings, members)
    existing = {a.pw_name: a.pw_uid for a in pwd.getpwall()}
    system = sorted(m.username for m in members if existing.get(m.username, FIRST_UID) < FIRST_UID)
    if system:
        raise HubError(f"roster {roster}: {system} are system accounts (uid < {FIRST_UID}); expected people's accounts")
    for member in members:
        ensure_account(member.username)
    settings.instructor = instructor
    students = [m.username for m in members if m.role == "student"]
    settings.students = sorted(set(settings.students) | set(students) - {instructor})
    account = pwd.getpwnam(instructor)
    set_up_instructor_course(settings, account)
    course_exchange = settings.exchange / settings.course_id
    if settings.exchange.is_dir():  # the instructor owns the course's exchange (students cannot squat it)
        course_exchange.mkdir(mode=0o755, exist_ok=True)
        os.chown(course_exchange, account.pw_uid, account.pw_gid)
    settings.save()
    return members


def remove_users(names: list[str]) -> None:
    """Delete the accounts and their homes (tests and load tests clean up with this)."""
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
