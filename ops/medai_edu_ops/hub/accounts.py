"""Who may log in to the class hub: the roster, hashed passwords, one-time sign-up codes, platform identities.

One SQLite file in the hub's state folder (root only). The hub reads it at every login, so students
added or removed with ``medai-edu hub add-users | remove-users`` count at once, without a restart.
Passwords and sign-up codes are stored as scrypt hashes (``hashlib.scrypt``), never in clear.

A sign-up code belongs to one name: it works once, with that name only, until it expires; re-issuing
a code makes the earlier one worthless. Redeeming it sets the student's password. The instructor
never gets a code: their password is set at set-up (``medai-edu hub add-users`` / ``hub password``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from medai_edu_ops.hub.settings import HubError

# scrypt's cost (16 MiB and about 50 ms per hash here): the parameters are stored with each hash.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper
CODE_LENGTH = 12  # 60 bits
MIN_PASSWORD = 8
SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('student', 'instructor')),
    display TEXT NOT NULL DEFAULT '',
    password TEXT,            -- scrypt hash; NULL until set
    code TEXT,                -- scrypt hash of the latest sign-up code; NULL when none was issued
    code_expires REAL,        -- unix time
    code_used REAL,           -- unix time it was redeemed; NULL while unused
    platform_id TEXT,         -- LTI: issuer and subject of the platform user this name belongs to
    removed INTEGER NOT NULL DEFAULT 0
)
"""


class SignupError(HubError):
    """A sign-up was refused; the message is for the student."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    display: str = ""
    has_password: bool = False
    code_expires: float | None = None
    code_used: float | None = None
    platform_id: str | None = None
    removed: bool = False

    def has_live_code(self, now: float | None = None) -> bool:
        return self.code_expires is not None and self.code_used is None and self.code_expires > (now or time.time())


def _account(row: sqlite3.Row) -> Account:
    return Account(
        row["name"],
        row["role"],
        row["display"],
        row["password"] is not None,
        row["code_expires"],
        row["code_used"],
        row["platform_id"],
        bool(row["removed"]),
    )


def hash_secret(secret: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


@functools.cache
def _nobody() -> str:
    return hash_secret(secrets.token_hex(16))


def verify_secret(secret: str, stored: str | None) -> bool:
    """Whether ``secret`` matches the hash ``stored``; as slow when nothing is stored (no name probing by time)."""
    if not stored:
        verify_secret(secret, _nobody())
        return False
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        assert kind == "scrypt"
        expected = base64.b64decode(digest)
        given = hashlib.scrypt(
            secret.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, AssertionError):
        return False
    return hmac.compare_digest(given, expected)


def new_code() -> str:
    """A sign-up code as printed: three groups of four, e.g. ``K7QM-2ZRA-WX4E``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalize_code(text: str) -> str:
    """What a student typed, as stored: upper case, without spaces and dashes."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


def new_password() -> str:
    """A generated password (the instructor's, at set-up): 20 characters, 120 bits."""
    return secrets.token_urlsafe(15)


class Accounts:
    """The account store at ``path`` (created with mode 600 on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _db(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch(mode=0o600)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            db.execute(SCHEMA)
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    @staticmethod
    def _member(row: sqlite3.Row | None) -> Account | None:
        return None if row is None else _account(row)

    def member(self, name: str) -> Account | None:
        with self._db() as db:
            return self._member(db.execute("SELECT * FROM members WHERE name = ?", (name,)).fetchone())

    def members(self, include_removed: bool = False) -> list[Account]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM members ORDER BY name").fetchall()
        return [m for m in map(_account, rows) if include_removed or not m.removed]

    def allowed(self, name: str) -> bool:
        """On the roster and not removed: the hub lets this name in (with the right password or launch)."""
        member = self.member(name)
        return member is not None and not member.removed

    def add(self, name: str, role: str, display: str = "") -> None:
        """Put ``name`` on the roster (again, if it was removed) with ``role``."""
        with self._db(write=True) as db:
            db.execute(
                "INSERT INTO members (name, role, display) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET role = excluded.role, removed = 0, "
                "display = CASE WHEN excluded.display != '' THEN excluded.display ELSE display END",
                (name, role, display),
            )

    def remove(self, name: str) -> None:
        """Take ``name`` off the roster: no login, no password, no code (the platform identity stays bound)."""
        with self._db(write=True) as db:
            db.execute(
                "UPDATE members SET removed = 1, password = NULL, code = NULL, code_expires = NULL, code_used = NULL "
                "WHERE name = ?",
                (name,),
            )

    def issue_code(self, name: str, days: float, now: float | None = None) -> str:
        """A new one-time sign-up code for the student ``name`` (the earlier one stops working); returned once."""
        member = self.member(name)
        if member is None or member.removed:
            raise HubError(f"{name} is not on the roster: add them with `medai-edu hub add-users` first")
        if member.role != "student":
            raise HubError(f"{name} is the instructor: set their password with `medai-edu hub password {name}`")
        code = new_code()
        expires = (now or time.time()) + days * 86400
        with self._db(write=True) as db:
            db.execute(
                "UPDATE members SET code = ?, code_expires = ?, code_used = NULL WHERE name = ?",
                (hash_secret(normalize_code(code)), expires, name),
            )
        return code

    def redeem(self, name: str, code: str, password: str, now: float | None = None) -> None:
        """Set ``name``'s password with their sign-up code; :class:`SignupError` says why not."""
        now = now or time.time()
        if len(password) < MIN_PASSWORD:
            raise SignupError(f"Choose a password of at least {MIN_PASSWORD} characters.")
        with self._db(write=True) as db:
            row = db.execute("SELECT * FROM members WHERE name = ? AND removed = 0", (name,)).fetchone()
            if not verify_secret(normalize_code(code), row["code"] if row else None):
                raise SignupError(
                    f"This is not the sign-up code of {name!r}. A code works only with the user name printed "
                    "beside it: check both, or ask your instructor."
                )
            if row["code_used"] is not None:
                raise SignupError(
                    "This code has already been used. Log in with the password you chose then, or ask your "
                    "instructor for a new code."
                )
            if row["code_expires"] <= now:
                day = time.strftime("%Y-%m-%d", time.localtime(row["code_expires"]))
                raise SignupError(f"This code expired on {day}. Ask your instructor for a new one.")
            db.execute(
                "UPDATE members SET password = ?, code_used = ? WHERE name = ?", (hash_secret(password), now, name)
            )

    def set_password(self, name: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise HubError(f"a password has at least {MIN_PASSWORD} characters")
        member = self.member(name)
        if member is None or member.removed:
            raise HubError(f"{name} is not on the roster")
        with self._db(write=True) as db:
            db.execute("UPDATE members SET password = ? WHERE name = ?", (hash_secret(password), name))

    def check_password(self, name: str, password: str) -> bool:
        with self._db() as db:
            row = db.execute("SELECT password FROM members WHERE name = ? AND removed = 0", (name,)).fetchone()
        return verify_secret(password, row["password"] if row else None)

    def bind_platform(self, name: str, identity: str) -> None:
        """Tie ``name`` to one platform user (LTI issuer and subject); another platform user is refused."""
        with self._db(write=True) as db:
            row = db.execute("SELECT platform_id FROM members WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise HubError(f"{name} is not on the roster")
            if row["platform_id"] not in (None, identity):
                raise HubError(
                    f"the hub account {name!r} belongs to another user of the learning platform; ask your "
                    "instructor (two platform user names map to the same hub name)"
                )
            db.execute("UPDATE members SET platform_id = ? WHERE name = ?", (identity, name))
