"""The sign-up codes for the instructor: a CSV (for a mail merge) and a printable page of slips, one per student.

Both files are the only place the codes exist in clear (the hub keeps their hashes): they are written
with mode 600 into a folder only their owner can open (by default the instructor's course folder).
Names come from the roster and are escaped: nothing in them becomes markup.
"""

from __future__ import annotations

import csv
import html
import os
import time
from pathlib import Path

from medai_edu_ops.hub.accounts import Accounts

SLIP_STYLE = """
body { font-family: sans-serif; margin: 1cm; }
.slip { border: 1px dashed #555; padding: 0.6cm; margin-bottom: 0.5cm; page-break-inside: avoid; }
.code { font-family: monospace; font-size: 1.6em; letter-spacing: 0.1em; }
"""


def write_codes(
    folder: Path, codes: dict[str, str], accounts: Accounts, url: str, owner: tuple[int, int] | None = None
) -> tuple[Path, Path]:
    """``codes-<time>.csv`` and ``codes-<time>.html`` in ``folder`` (mode 700); returns both paths."""
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    signup = f"{url.rstrip('/')}/hub/signup"
    rows = []
    for name, code in sorted(codes.items()):
        account = accounts.member(name)
        assert account is not None  # codes are issued to members
        expires = time.strftime("%Y-%m-%d %H:%M", time.localtime(account.code_expires))
        rows.append({"username": name, "name": account.display, "code": code, "expires": expires, "signup_url": signup})
    table = folder / f"codes-{stamp}.csv"
    with _private(table).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["username", "name", "code", "expires", "signup_url"])
        writer.writeheader()
        writer.writerows(rows)
    sheet = folder / f"codes-{stamp}.html"
    _private(sheet).write_text(_slips(rows))
    if owner:
        for path in (folder, table, sheet):
            os.chown(path, *owner)
    os.chmod(folder, 0o700)
    return table, sheet


def _private(path: Path) -> Path:
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    return path


def _slips(rows: list[dict[str, str]]) -> str:
    e = html.escape
    slips = "\n".join(
        f"""<div class="slip">
  <p><strong>{e(row["name"] or row["username"])}</strong>: your sign-up code for the class hub</p>
  <p>1. Open <strong>{e(row["signup_url"])}</strong></p>
  <p>2. User name: <span class="code">{e(row["username"])}</span></p>
  <p>3. Sign-up code: <span class="code">{e(row["code"])}</span> (works once, until {e(row["expires"])})</p>
  <p>4. Choose your password (at least 8 characters). From then on, sign in with your user name and password.</p>
</div>"""
        for row in rows
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Sign-up codes</title>'
        f"<style>{SLIP_STYLE}</style></head>\n<body>\n{slips}\n</body></html>\n"
    )
