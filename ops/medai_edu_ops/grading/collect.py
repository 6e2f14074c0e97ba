"""``medai-edu collect LESSON DOWNLOAD``: a learning platform's "download all submissions" into ``submitted/``.

A preset knows how a platform names the files of its download (a regular expression with named
groups, as nbgrader's ``zip_collect`` ``named_regexp``):

- ``moodle``: Assignment > "Download all submissions". Without folders each file is
  ``Full Name_12345_assignsubmission_file_<file>``; with "Download submissions in folders" (the
  default since Moodle 3.1) it is ``Full Name_12345_assignsubmission_file/<file>``. 12345 is the
  participant number ("Identifier: Participant 12345" in the assignment's grading worksheet);
  with anonymous submissions the name is "Participant". The download holds no submission time:
  pass the grading worksheet (``--worksheet``, "Download grading worksheet") and each student's
  "Last modified (submission)" becomes their ``timestamp.txt``.
- ``canvas``: Assignment > "Download Submissions" (``submissions.zip``). Each file is
  ``<sortablename>[_late]_<user id>_<attachment id>_<file>``, the name lower-cased without spaces
  or punctuation, ``late`` where Canvas marked the submission late. The download holds no
  submission time (each student's "late" is recorded).
- any other platform: ``--pattern`` with the groups ``student_id`` (or ``platform_id``, and
  optionally ``name``) and ``file_id``, optionally ``timestamp`` and ``late``.

Each matched file goes to ``submitted/<student>/<lesson>/`` (a student's folder is emptied first:
the download is the platform's current state). A lesson with one notebook gets the student's only
notebook under the lesson's name. Who is who (platform identifier, name, e-mail, time, late) is
kept in ``collected/<lesson>.csv`` for the grade files (:mod:`.upload`). Files that match no
pattern, unsafe paths, links and oversized files are reported, never written.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path, PurePosixPath

Opener = Path | tuple[zipfile.ZipFile, zipfile.ZipInfo]  # a file of a download folder, or a zip's member

COLLECTED_DIR = "collected"
MAX_FILE_BYTES = 50 << 20  # one submitted file
MAX_TOTAL_BYTES = 4 << 30  # the whole download, unpacked
RECORD_FIELDS = [
    "student",
    "platform",
    "platform_id",
    "name",
    "email",
    "submitted_at",
    "late",
    "files",
    "attachment_id",
]

PRESETS = {
    "moodle": re.compile(
        r"^(?:.*/)?(?P<name>[^/]+?)_(?P<platform_id>\d+)_+assignsubmission_file_*(?:/(?:.*/)?|)(?P<file_id>[^/]+)$"
    ),
    "canvas": re.compile(
        r"^(?:.*/)?(?:(?P<name>\w*?)_)??(?:(?P<late>late)_)?(?P<platform_id>\d+)_(?P<attachment_id>\d+)_(?P<file_id>[^/]+)$",
        re.IGNORECASE,
    ),
}
WORKSHEET_ID = re.compile(r"^\D*(\d+)\s*$")  # "Participant 12345"


class CollectError(ValueError):
    """The download or the pattern cannot be used; the message says what was expected."""


@dataclass
class Record:
    """One student of a download, as the platform knows them."""

    student: str
    platform: str
    platform_id: str = ""
    name: str = ""
    email: str = ""
    submitted_at: str = ""  # ISO 8601 in UTC, or "" where the download does not say
    late: str = ""  # "yes" where the platform marked it late
    files: list[str] = field(default_factory=list)
    attachment_id: str = ""  # Canvas: the submitted file's number (its feedback upload names it)


@dataclass
class Collected:
    """What ``collect`` did: the students written, and every file it did not use, with the reason."""

    lesson: str
    records: list[Record]
    skipped: list[tuple[str, str]]  # (path in the download, why)
    record_path: Path

    def summary(self) -> str:
        lines = [f"Collected {len(self.records)} student(s) of {self.lesson} into submitted/<student>/{self.lesson}/:"]
        for r in self.records:
            when = r.submitted_at or "no submission time in the download"
            late = ", marked late by the platform" if r.late else ""
            who = f"{r.name} ({r.platform_id})" if r.name else r.platform_id
            lines.append(f"  {r.student:<28} {who}: {', '.join(r.files)}; {when}{late}")
        if self.skipped:
            lines.append(f"Not collected ({len(self.skipped)}):")
            lines += [f"  {path}: {why}" for path, why in self.skipped]
        lines.append(f"Who is who: {self.record_path}")
        return "\n".join(lines)


def slug(text: str) -> str:
    """A folder-safe student id from a name: ASCII letters and digits joined by '-', lower case."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60]


def _safe_name(name: str) -> str:
    """A file name from a download, safe to write: no path, no leading dot, printable."""
    cleaned = re.sub(r"[^\w.()+ -]", "_", PurePosixPath(name).name).lstrip(". ")
    return cleaned[:120] or "file"


def _entries(download: Path) -> list[tuple[str, int, Opener]]:
    """(path inside the download, size, opener) for every regular file of a zip or a folder."""
    if not download.exists():
        raise CollectError(f"{download} does not exist: pass the path of the platform's download (.zip or folder)")
    if download.is_dir():
        found: list[tuple[str, int, Opener]] = []
        for path in sorted(download.rglob("*")):
            if path.is_file() and not path.is_symlink():
                found.append((path.relative_to(download).as_posix(), path.stat().st_size, path))
        return found
    if not zipfile.is_zipfile(download):
        raise CollectError(f"{download} is neither a .zip file nor a folder: pass the platform's download as it came")
    archive = zipfile.ZipFile(download)
    found = []
    for info in archive.infolist():
        is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
        if info.is_dir():
            continue
        found.append((info.filename, -1 if is_link else info.file_size, (archive, info)))
    return found


def _read(opener: Opener, limit: int) -> bytes:
    if isinstance(opener, Path):
        return opener.read_bytes()[: limit + 1]
    archive, info = opener
    with archive.open(info) as handle:
        return handle.read(limit + 1)


def _unsafe(path: str) -> str | None:
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if path.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", path):
        return "unsafe path (absolute or with ..)"
    if any(p.startswith("__MACOSX") or p == ".DS_Store" for p in parts):
        return "operating-system metadata"
    return None


def _timestamp(text: str, zone: tzinfo) -> str:
    """A time as the platform wrote it, read in ``zone`` unless it names its own, as ISO 8601 UTC."""
    from dateutil import parser

    when = parser.parse(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.astimezone(timezone.utc).isoformat()


def read_worksheet(path: Path, zone: tzinfo) -> dict[str, dict[str, str]]:
    """Moodle's grading worksheet: participant number -> name, e-mail and submission time (ISO, UTC)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "Identifier" not in rows[0]:
        raise CollectError(
            f"{path} is not a Moodle grading worksheet: expected a CSV with the columns 'Identifier', 'Full name', "
            f"'Email address' and 'Last modified (submission)'; found {', '.join(list(rows[0]) if rows else []) or 'no rows'}"
        )
    people = {}
    for row in rows:
        found = WORKSHEET_ID.match(row.get("Identifier") or "")
        if not found:
            continue
        submitted = (row.get("Last modified (submission)") or "").strip()
        try:
            when = _timestamp(submitted, zone) if submitted and submitted != "-" else ""
        except (ValueError, OverflowError):
            when = ""
        people[found.group(1)] = {
            "name": row.get("Full name", ""),
            "email": row.get("Email address", ""),
            "submitted_at": when,
        }
    return people


def collect(
    lesson: str,
    download: Path,
    root: Path = Path("."),
    platform: str = "moodle",
    pattern: str | None = None,
    worksheet: Path | None = None,
    zone: tzinfo | None = None,
) -> Collected:
    """Unpack ``download`` (a zip or a folder) into ``submitted/<student>/<lesson>/``; see the module's text."""
    from medai_edu_ops.grading.course import Layout

    layout = Layout.read(root)
    notebooks = sorted((layout.release / lesson).glob("*.ipynb"))
    if not notebooks:
        raise CollectError(f"no released lesson {lesson} in {layout.release}: run `make release` (or check the name)")
    try:
        regex = re.compile(pattern) if pattern else PRESETS[platform]
    except (KeyError, re.error) as error:
        raise CollectError(f"use --platform moodle or canvas, or a valid --pattern ({error})") from None
    if "file_id" not in regex.groupindex or not {"student_id", "platform_id"} & set(regex.groupindex):
        raise CollectError(
            "a --pattern needs the groups (?P<file_id>...) and (?P<student_id>...) or (?P<platform_id>...)"
        )
    zone = zone or datetime.now().astimezone().tzinfo
    assert zone is not None  # astimezone() always sets one
    people = read_worksheet(worksheet, zone) if worksheet else {}
    records: dict[str, Record] = {}
    payload: dict[str, list[tuple[str, Opener, str]]] = {}  # key -> (file name, opener, path in download)
    skipped: list[tuple[str, str]] = []
    total = 0
    for path, size, opener in _entries(Path(download)):
        if (why := _unsafe(path)) is not None:
            skipped.append((path, why))
            continue
        found = regex.match(path)
        if not found:
            skipped.append((path, "matches no file name of the pattern"))
            continue
        groups = {k: (v or "") for k, v in found.groupdict().items()}
        if size < 0:
            skipped.append((path, "a link, not a file"))
            continue
        if size > MAX_FILE_BYTES or total + size > MAX_TOTAL_BYTES:
            skipped.append(
                (path, f"{size / 2**20:.0f} MB: larger than collect takes ({MAX_FILE_BYTES >> 20} MB a file)")
            )
            continue
        total += size
        key = groups.get("student_id") or groups["platform_id"]
        record = records.get(key)
        if record is None:
            person = people.get(groups.get("platform_id", ""), {})
            name = person.get("name") or groups.get("name", "").strip()
            record = records[key] = Record(
                student=groups.get("student_id", ""),
                platform=platform if not pattern else "other",
                platform_id=groups.get("platform_id", ""),
                name=name,
                email=person.get("email", ""),
                submitted_at=person.get("submitted_at", ""),
                attachment_id=groups.get("attachment_id", ""),
            )
            if groups.get("timestamp"):
                try:
                    record.submitted_at = _timestamp(groups["timestamp"], zone)
                except (ValueError, OverflowError):
                    skipped.append((path, f"timestamp {groups['timestamp']!r} is not a date: no time recorded"))
        record.late = "yes" if groups.get("late") or record.late else ""
        payload.setdefault(key, []).append((_safe_name(groups["file_id"]), opener, path))
    _name_students(list(records.values()), platform, skipped)
    written = [r for r in records.values() if r.student]
    for key, record in records.items():
        if record.student:
            folder = layout.submitted / record.student / lesson
            record.files = _write(folder, payload[key], notebooks, skipped)
            if record.submitted_at:  # nbgrader's late penalties read it; without it the work counts as on time
                (folder / "timestamp.txt").write_text(record.submitted_at + "\n")
    record_path = _save(layout.root / COLLECTED_DIR / f"{lesson}.csv", written)
    return Collected(lesson, sorted(written, key=lambda r: r.student), skipped, record_path)


def _name_students(records: list[Record], platform: str, skipped: list[tuple[str, str]]) -> None:
    """Each record's folder name: the pattern's student_id, else the name's slug (the number where names clash)."""
    from medai_edu_ops.grading.course import STUDENT_ID

    for record in records:
        if not record.student:
            anonymous = not record.name or record.name.lower().startswith("participant")
            record.student = f"{platform}-{record.platform_id}" if anonymous else slug(record.name)
    counts: dict[str, int] = {}
    for record in records:
        counts[record.student] = counts.get(record.student, 0) + 1
    for record in records:
        if counts[record.student] > 1 or not record.student:
            record.student = f"{record.student or platform}-{record.platform_id}".strip("-")
        if not STUDENT_ID.fullmatch(record.student):
            skipped.append((record.student, "not usable as a student id (letters, digits, . _ @ + -)"))
            record.student = ""


def _write(
    folder: Path, files: list[tuple[str, Opener, str]], notebooks: list[Path], skipped: list[tuple[str, str]]
) -> list[str]:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    submitted = [f for f in files if f[0].endswith(".ipynb")]
    written = []
    for name, opener, path in files:
        if len(notebooks) == 1 and len(submitted) == 1 and name.endswith(".ipynb"):
            name = notebooks[0].name  # the lesson's name: the grader looks for it
        data = _read(opener, MAX_FILE_BYTES)
        if len(data) > MAX_FILE_BYTES:
            skipped.append((path, "larger than its size in the zip said: not written"))
            continue
        (folder / name).write_bytes(data)
        written.append(name)
    return written


def _save(path: Path, records: list[Record]) -> Path:
    """Merge into collected/<lesson>.csv: this download's students replace their earlier rows."""
    kept = [row for row in read_records(path).values() if row["student"] not in {r.student for r in records}]
    rows = kept + [{**r.__dict__, "files": " ".join(r.files)} for r in records]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, RECORD_FIELDS)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda row: row["student"]))
    return path


def read_records(path: Path) -> dict[str, dict[str, str]]:
    """collected/<lesson>.csv as student -> row ({} when nothing was collected)."""
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student"]: {k: v or "" for k, v in row.items()} for row in csv.DictReader(handle)}


def _main(args: argparse.Namespace) -> int:
    import sys
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(args.timezone) if args.timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        print(f"medai-edu collect: unknown time zone {args.timezone!r} (expected e.g. Europe/Zurich)", file=sys.stderr)
        return 2
    try:
        done = collect(
            args.lesson,
            Path(args.download),
            Path(args.root),
            args.platform,
            args.pattern,
            Path(args.worksheet) if args.worksheet else None,
            zone,
        )
    except (CollectError, OSError, zipfile.BadZipFile) as error:
        print(f"medai-edu collect: {error}", file=sys.stderr)
        return 2
    print(done.summary())
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "collect", help="unpack a learning platform's download of a lesson's submissions into submitted/"
    )
    run.add_argument("lesson", help="the assignment, e.g. 04_human_with_ai")
    run.add_argument("download", help="the platform's download: the .zip as it came, or the folder it unpacks to")
    run.add_argument("--platform", choices=sorted(PRESETS), default="moodle", help="whose file names (default moodle)")
    run.add_argument(
        "--pattern",
        default=None,
        help="another platform: a regular expression for the paths in the download, with the groups "
        "(?P<student_id>...) or (?P<platform_id>...), (?P<file_id>...), optionally (?P<timestamp>...)",
    )
    run.add_argument(
        "--worksheet", default=None, help="Moodle: the assignment's grading worksheet (CSV): submission times, e-mails"
    )
    run.add_argument(
        "--timezone",
        default=None,
        help="the platform's time zone for times without one, e.g. Europe/Zurich (default: this machine's)",
    )
    run.add_argument("--root", default=".", help="the course folder with nbgrader_config.py (default: here)")
    run.set_defaults(run=_main)
