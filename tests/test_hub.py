"""The class hub end to end, in Chromium: an instructor and two students on a real JupyterHub.

The hub is the one ``make hub`` runs (deploy/hub/jupyterhub_config.py, ops/medai_edu_ops/hub/), started on a
free loopback port, with test-only local accounts (unique ``mdt...`` names, removed afterwards) made by
``medai-edu hub add-users``: the instructor logs in with the password it generated, each student signs
up with the one-time code from the sheet it wrote. Before that, nobody can claim another student's
name or the instructor's, and a used or foreign code is refused. The instructor releases lesson 00
from the formgrader; two students fetch it from the Assignments list, answer two core questions (one
student right, one wrong; their JupyterLab shows no nbgrader instructor tools) and submit; the instructor collects in the formgrader, autogrades with
``medai-edu grade`` (the isolated grader) in a JupyterLab terminal and releases feedback; each student
fetches the feedback and sees the expected score. A student added while the hub runs gets in at once;
removed, they are out at once, their server stops and their files stay. Needs root and Chromium.
"""

from __future__ import annotations

import csv
import datetime
import importlib
import ipaddress
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from medai_edu_ops import lab
from medai_edu_ops.browser import page as browser_page
from medai_edu_ops.browser.servers import free_port
from medai_edu_ops.hub import config, launch, limits, roster, sheets
from medai_edu_ops.hub.accounts import Accounts, SignupError
from medai_edu_ops.hub.settings import HubError, HubSettings, check_certificate
from medai_edu_ops.hub.student_copy import copy_missing_lessons
from medai_edu_ops.release import part
from test_browser import _nbgrader_tools, chromium  # noqa: F401 - the same Chromium fixture as the browser tests
from test_core_path import LESSON_MODULES, core_tests

from medai_edu.checks.questions import Estimate

ARTIFACTS = ROOT / "test-artifacts" / "hub"
LESSON = "00_welcome"
PREFIX = "mdt" + uuid.uuid4().hex[:5]
INSTRUCTOR, RIGHT, WRONG, LATE = f"{PREFIX}i", f"{PREFIX}a", f"{PREFIX}b", f"{PREFIX}c"
PASSWORDS = {name: "test-only-" + uuid.uuid4().hex[:12] for name in (RIGHT, WRONG, LATE)}  # what students choose
CLI = [str(Path(sys.executable).parent / "medai-edu"), "hub"]


def _answers(lesson: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Two core questions of the lesson, read from its notebook and its lesson module: a number and a letter.
    One student answers both right, the other both wrong (a typical mistake, another letter). Returns the
    answers by answer cell, and each answer cell's test cell."""
    path = ROOT / "solutions" / lesson / f"{lesson}.ipynb"
    questions = importlib.import_module(LESSON_MODULES[lesson]).QUESTIONS
    cells = nbformat.read(path, as_version=4).cells
    answer_cell = {
        variable: c.metadata.nbgrader.grade_id
        for c in cells
        if part(c) == "core" and c.metadata.get("nbgrader", {}).get("solution")
        for variable in re.findall(r"^(\w+) = ", c.source, re.M)
    }
    tests = {  # the lesson's first question of each kind ("estimate", "choice")
        kind: (answer_cell[variable], cell.metadata.nbgrader.grade_id, variable, questions[key])
        for cell, kind, variable, key in reversed(core_tests(path))
    }
    right, wrong = {}, {}
    for grade_id, _, variable, question in tests.values():
        if isinstance(question, Estimate):
            mistake = next(m for m in question.mistakes if not question.low <= m <= question.high)
            right[grade_id] = f"{variable} = {(question.low + question.high) / 2:g}"
            wrong[grade_id] = f"{variable} = {mistake:g}"
        else:
            right[grade_id] = f'{variable} = "{question.correct}"'
            wrong[grade_id] = f'{variable} = "{next(o for o in question.options if o != question.correct)}"'
    return {RIGHT: right, WRONG: wrong}, {grade_id: test for grade_id, test, *_ in tests.values()}


ANSWERS, TESTS_OF = _answers(LESSON)
# What a student's JupyterLab must not show (tests/test_browser.py checks the same for `make lab`).
INSTRUCTOR_TOOLS = ("Validate button", "Create Assignment panel", "Formgrader menu entry", "Course List menu entry")
PROXY = ROOT / ".venv" / "hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
FEEDBACK_MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/"
TIMEOUT_MS = 300_000  # JupyterLab starts in 10-60 s on a 2-core machine at load 4-5, over 120 s at load 10


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "the class hub needs root (it creates local accounts and starts servers as them)"
    if not shutil.which("useradd"):
        return "no useradd on this machine: the hub cannot create local accounts"
    if not PROXY.exists():
        return f"configurable-http-proxy is not at {PROXY}: run `make test` (it installs the hub's proxy from npm)"
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "JupyterHub is not installed: run `make test` (it installs the hub extra)"
    if shutil.which("bwrap"):  # the instructor grades as an ordinary user: bubblewrap must work without root
        probe = ["runuser", "-u", "nobody", "--", "bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"]
        if subprocess.run(probe, capture_output=True).returncode:
            return (
                "bubblewrap does not work for ordinary users here (no user namespaces): the hub cannot grade isolated"
            )
    else:
        return "bubblewrap is missing: run `make test` as root (it installs it) so the instructor can grade isolated"
    return browser_page.chromium_missing()


missing = _why_not()
needs_hub = pytest.mark.skipif(missing is not None, reason=str(missing))


def install_course(folder: Path) -> Path:
    """A copy of the course as `make hub` serves it (lessons, solutions, nbgrader config) under ``folder``."""
    course = folder / "installed"
    course.mkdir()
    for name in ("course", "solutions"):
        shutil.copytree(ROOT / name, course / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    return course


def hub_cli(settings: HubSettings, *argv: str) -> str:
    """``medai-edu hub ARGV --root ...`` as the instructor's IT would run it; its output."""
    done = subprocess.run([*CLI, *argv, "--root", str(settings.root)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"medai-edu hub {' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _codes(folder: Path) -> dict[str, str]:
    """The codes from the newest sheet ``add-users`` wrote (the CSV beside the printable slips)."""
    newest = max(folder.glob("codes-*.csv"), key=lambda p: p.stat().st_mtime)
    with newest.open() as handle:
        return {row["username"]: row["code"] for row in csv.DictReader(handle)}


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 valid for a day, and its key (mode 600), as `openssl req -x509` makes one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert, private = folder / "hub.crt", folder / "hub.key"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.touch(mode=0o600)
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    return cert, private


@pytest.fixture(scope="module")
def hub():
    """The class hub on free loopback ports with test users; accounts and folders removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="medai-hub-test-"))
    os.chmod(folder, 0o755)  # students must reach the installed course below it
    (folder / "roster.csv").write_text(
        f"username,role,name\n{INSTRUCTOR},instructor,Dr Test\n{RIGHT},student,Ann Right\n{WRONG},student,Ben Wrong\n"
    )
    try:
        settings = HubSettings(
            root=folder / "srv",
            course=install_course(folder),
            port=free_port(),
            hub_port=free_port(),
            proxy_api_port=free_port(),
            mem_limit="2G",
            cpu_limit=1.0,
        )
        launch.prepare(settings)
        output = hub_cli(settings, "add-users", str(folder / "roster.csv"), "--codes-dir", str(folder / "codes"))
        password = re.search(r"password .*:\n  (\S+)", output).group(1)
        settings = HubSettings.load(settings.path)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with launch.running_hub(settings, ARTIFACTS / "hub.log", timeout=120) as base:
            yield base, settings, {INSTRUCTOR: password, **_codes(folder / "codes")}, folder
    finally:
        roster.delete_accounts([INSTRUCTOR, RIGHT, WRONG, LATE])
        shutil.rmtree(folder, ignore_errors=True)


# --- what a user does -------------------------------------------------------------------------------


def _new_page(browser, watch: browser_page.Watch):
    page = browser_page.new_page(browser, watch)
    page.set_default_timeout(120_000)  # a page of a busy hub on 2 loaded cores
    return page


def _submit_log_in(page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")


def _submit_sign_up(page, base: str, user: str, code: str, password: str) -> None:
    page.goto(f"{base}/hub/signup")
    page.fill("#username_input", user)
    page.fill("#code_input", code)
    page.fill("#password_input", password)
    page.fill("#password_repeat_input", password)
    page.click("#signup_submit")


def _in_lab(page, user: str):
    page.wait_for_url(f"**/user/{user}/lab**", timeout=TIMEOUT_MS)
    page.wait_for_selector(".jp-DirListing-item", timeout=TIMEOUT_MS)
    return page


def _log_in(browser, base: str, user: str, password: str, watch: browser_page.Watch):
    page = _new_page(browser, watch)
    _submit_log_in(page, base, user, password)
    return _in_lab(page, user)


def _sign_up(browser, base: str, user: str, code: str, watch: browser_page.Watch):
    page = _new_page(browser, watch)
    _submit_sign_up(page, base, user, code, PASSWORDS[user])
    return _in_lab(page, user)


def _refused(page, base: str, error: str, expected: str) -> None:
    """The page shows ``error`` saying ``expected``, and this browser has no hub session."""
    shown = page.locator(error)
    shown.wait_for()
    assert expected in shown.inner_text(), shown.inner_text()
    assert page.request.get(f"{base}/hub/api/user").status == 403, "a refused attempt left a hub session"


def _assert_no_claims(page, base: str, codes: dict[str, str]) -> None:
    """Nobody takes another's name with their own code, nor the instructor's; no first login claims a name."""
    for user, code, why in [
        (WRONG, codes[RIGHT], "another student's name with one's own code"),
        (RIGHT, codes[WRONG], "a foreign code (another student's slip)"),
        (INSTRUCTOR, codes[RIGHT], "the instructor's name"),
    ]:
        _submit_sign_up(page, base, user, code, "a-new-password-" + why[:3])
        _refused(page, base, "#signup_error", f"This is not the sign-up code of '{user}'")
    for user in (INSTRUCTOR, WRONG):  # a first login sets no password: there is none to claim
        _submit_log_in(page, base, user, "first-login-claims-this")
        _refused(page, base, ".login_error", "Invalid username or password")


def _formgrader(page, base: str, user: str, column: str) -> str:
    """Click the formgrader's ``column`` link (release, collect, release-feedback) of the lesson; its message."""
    page.goto(f"{base}/user/{user}/formgrader")
    row = page.locator("tr", has=page.locator("a", has_text=re.compile(f"^{LESSON}$")))
    row.locator(f"td.{column} a").click()
    modal = page.locator("#success-modal, #error-modal")
    modal.wait_for(timeout=TIMEOUT_MS)
    text = modal.inner_text()
    assert page.locator("#success-modal").count() == 1, f"formgrader {column} failed: {text}"
    return text


def _assignments(page):
    """The Assignments list (nbgrader's panel in JupyterLab), opened from the Nbgrader menu."""
    if not page.locator("#released_assignments_list").count():
        browser_page.menu(page, "Nbgrader", "Assignment List")
    page.locator("#released_assignments_list").wait_for()
    return page


def _click_in_list(page, list_id: str, button: str) -> None:
    item = page.locator(f"#{list_id} .list_item", has_text=LESSON).first
    item.locator("button", has_text=button).first.click()


def _answer(page, base: str, user: str, answers: dict[str, str]) -> None:
    """Open the fetched notebook, type the answers into their cells, save; waits until the server has them."""
    from playwright.sync_api import expect

    cells = json.loads((ROOT / "course" / LESSON / f"{LESSON}.ipynb").read_text())["cells"]
    index = {c["metadata"].get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(cells)}
    page.goto(f"{base}/user/{user}/lab/workspaces/hub-test/tree/{LESSON}/{LESSON}.ipynb?reset")
    notebook = browser_page.NOTEBOOK
    page.wait_for_function(
        f"document.querySelectorAll('{notebook} .jp-Cell').length === {len(cells)}", timeout=TIMEOUT_MS
    )
    for grade_id, text in answers.items():
        editor = page.locator(f"{notebook} .jp-Cell").nth(index[grade_id]).locator(".cm-content")
        for _ in range(3):  # on a very busy machine a keystroke can land before the editor has focus
            editor.click()
            page.keyboard.press("Control+A")
            page.keyboard.type(text)
            try:
                expect(editor).to_have_text(text, timeout=30_000)
                break
            except AssertionError:
                continue
    page.keyboard.press("Escape")
    deadline = time.monotonic() + 120
    while True:
        browser_page.menu(page, "File", "Save Notebook")
        page.wait_for_timeout(3000)
        saved = _saved_sources(page, base, user)
        if all(saved[g] == text for g, text in answers.items()) or time.monotonic() > deadline:
            break
    for grade_id, text in answers.items():
        assert saved[grade_id] == text, f"{user}'s saved answer {grade_id}: {saved[grade_id]!r}"


# What a kernel answers about itself: its Python, and which of the library and the course operations
# (with their dependencies) it can import. One JSON line.
PROBE = (
    "import importlib.util, json, sys; print(json.dumps({'python': sys.executable, **{m: importlib.util.find_spec(m)"
    " is not None for m in ('medai_edu', 'medai_edu_ops', 'jupyterhub', 'nbgrader', 'pytest')}}))"
)
LIBRARY_ONLY = {"medai_edu": True, "medai_edu_ops": False, "jupyterhub": False, "nbgrader": False, "pytest": False}


def _ask_kernel(client) -> dict:
    """Run PROBE in the kernel behind ``client`` (a jupyter_client blocking client); its answer."""
    said = []

    def output(message: dict) -> None:
        if message["msg_type"] == "stream":
            said.append(message["content"]["text"])

    client.wait_for_ready(timeout=120)
    reply = client.execute_interactive(PROBE, output_hook=output, timeout=120)
    assert reply["content"]["status"] == "ok", reply["content"]
    return json.loads("".join(said))


def _assert_library_only_kernel(page, base: str, user: str, settings: HubSettings) -> None:
    """The kernel the student's open lesson runs (started by their server) imports the library, not the course
    operations: asked over its own connection file in the student's runtime folder."""
    from jupyter_client import BlockingKernelClient

    deadline = time.monotonic() + 120
    while not (kernels := page.request.get(f"{base}/user/{user}/api/kernels").json()):
        assert time.monotonic() < deadline, f"{user}'s open lesson started no kernel"
        page.wait_for_timeout(1000)
    assert [k["name"] for k in kernels] == ["medai-edu"], kernels
    home = Path(pwd.getpwnam(user).pw_dir)
    connection = next(home.rglob(f"kernel-{kernels[0]['id']}.json"))
    client = BlockingKernelClient(connection_file=str(connection))
    client.load_connection_file()
    client.start_channels()
    try:
        assert _ask_kernel(client) == {"python": settings.kernel_python, **LIBRARY_ONLY}, user
    finally:
        client.stop_channels()


def _saved_sources(page, base: str, user: str) -> dict[str, str]:
    response = page.request.get(f"{base}/user/{user}/api/contents/{LESSON}/{LESSON}.ipynb?content=1")
    assert response.ok, f"reading the saved notebook failed: {response.status}"
    cells = response.json()["content"]["cells"]
    return {c["metadata"].get("nbgrader", {}).get("grade_id"): "".join(c["source"]) for c in cells}


def _terminal(page, base: str, user: str, command: str, timeout: float = 600) -> str:
    """Type ``command`` into a new JupyterLab terminal; wait for it to finish; returns its output."""
    page.goto(f"{base}/user/{user}/lab/workspaces/hub-terminal?reset")
    page.wait_for_selector(".jp-DirListing-item", timeout=TIMEOUT_MS)
    browser_page.menu(page, "File", "New", "Terminal")
    page.locator(".jp-Terminal .xterm").first.click()
    done = f"terminal-done-{uuid.uuid4().hex[:6]}"
    page.keyboard.type(f"({command}) > ~/{done}.log 2>&1; echo $? > ~/{done}.rc\n")
    home = Path(pwd.getpwnam(user).pw_dir)
    deadline = time.monotonic() + timeout
    while not (home / f"{done}.rc").exists():
        assert time.monotonic() < deadline, f"the terminal command ran past {timeout:.0f} s: {command}"
        time.sleep(1)
    time.sleep(0.5)
    output = (home / f"{done}.log").read_text()
    assert (home / f"{done}.rc").read_text().strip() == "0", f"`{command}` failed in the terminal:\n{output[-3000:]}"
    return output


def _feedback_score(page, base: str, user: str) -> tuple[float, float]:
    """Fetch the feedback from the Assignments list, open it, read the score it shows."""
    _assignments(page)
    page.locator("#refresh_assignments_list").click()
    page.wait_for_timeout(1500)
    _click_in_list(page, "submitted_assignments_list", "Fetch Feedback")
    listing = f"{base}/user/{user}/api/contents/{LESSON}/feedback"
    deadline = time.monotonic() + 60
    while not (response := page.request.get(listing)).ok:
        assert time.monotonic() < deadline, f"no feedback folder after Fetch Feedback: {response.status}"
        page.wait_for_timeout(1000)
    runs = sorted(item["path"] for item in response.json()["content"])
    page.goto(f"{base}/user/{user}/files/{runs[-1]}/{LESSON}.html")
    text = page.locator("body").inner_text()
    found = re.search(rf"{LESSON}: ([\d.]+) of ([\d.]+) points", text)  # the course's feedback heading
    assert found, f"{user}'s feedback shows no score:\n{text[:1500]}"
    browser_page.screenshot(page, ARTIFACTS / f"feedback-{user[-1]}.png")
    return float(found.group(1)), float(found.group(2))


def _points() -> tuple[dict[str, float], float]:
    """Points of each graded cell as the default release gives them (the programmers' part: 0)."""
    cells = json.loads((ROOT / "course" / LESSON / f"{LESSON}.ipynb").read_text())["cells"]
    points = {
        c["metadata"]["nbgrader"]["grade_id"]: float(c["metadata"]["nbgrader"].get("points", 0))
        for c in cells
        if c["metadata"].get("nbgrader", {}).get("grade")
    }
    return points, sum(points.values())


def _as_user(user: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", user, "--", *argv], capture_output=True, text=True)


# --- the test ---------------------------------------------------------------------------------------


@pytest.mark.slow
@needs_hub
def test_a_class_on_the_hub(hub, chromium):  # noqa: F811 - the fixture imported from test_browser
    base, settings, credentials, _ = hub
    started = time.monotonic()
    watch = browser_page.Watch()
    door = _new_page(chromium, watch)  # someone at the login page who holds no session
    _assert_no_claims(door, base, credentials)
    teacher = _log_in(chromium, base, INSTRUCTOR, credentials[INSTRUCTOR], watch)
    _formgrader(teacher, base, INSTRUCTOR, "release")
    assert (settings.exchange / settings.course_id / "outbound" / LESSON / f"{LESSON}.ipynb").exists()

    students = {}
    for user, answers in ANSWERS.items():
        page = _assignments(_sign_up(chromium, base, user, credentials[user], watch))
        _click_in_list(page, "released_assignments_list", "Fetch")
        page.locator("#fetched_assignments_list .list_item", has_text=LESSON).first.wait_for()
        assert (Path(pwd.getpwnam(user).pw_dir) / LESSON / f"{LESSON}.ipynb").exists()
        _answer(page, base, user, answers)
        _assert_library_only_kernel(page, base, user, settings)
        tools = _nbgrader_tools(page)  # the lesson is open in the student's JupyterLab
        shown = [tool for tool in INSTRUCTOR_TOOLS if tools[tool]]
        assert not shown and tools["Assignment List menu entry"], f"{user}'s JupyterLab shows {tools}"
        browser_page.screenshot(page, ARTIFACTS / f"lab-{user[-1]}.png")
        _assignments(page)
        page.locator("#refresh_assignments_list").click()
        page.wait_for_timeout(1000)
        _click_in_list(page, "fetched_assignments_list", "Submit")
        page.locator("#submitted_assignments_list .list_item", has_text=LESSON).first.wait_for(timeout=TIMEOUT_MS)
        students[user] = page
    _submit_sign_up(door, base, RIGHT, credentials[RIGHT], "a-second-password")
    _refused(door, base, "#signup_error", "This code has already been used")

    _formgrader(teacher, base, INSTRUCTOR, "collect")
    course = settings.instructor_course(Path(pwd.getpwnam(INSTRUCTOR).pw_dir))
    for user in ANSWERS:
        assert (course / "submitted" / user / LESSON / f"{LESSON}.ipynb").exists(), f"{user}'s work was not collected"
    # Terminals keep the server's PATH: the instructor's finds medai-edu, a student's the kernels' Python alone.
    output = _terminal(teacher, base, INSTRUCTOR, f"cd {course} && medai-edu grade {LESSON} --workers 2")
    (ARTIFACTS / "grade-output.txt").write_text(output)
    tools = _nbgrader_tools(teacher)  # no notebook is open here: the Validate button cannot show
    assert all(tools[tool] for tool in INSTRUCTOR_TOOLS if tool != "Validate button"), f"the instructor's: {tools}"
    _formgrader(teacher, base, INSTRUCTOR, "release-feedback")
    retrain = "python -m medai_edu.training --help && ! python -c 'import medai_edu_ops' && ! command -v medai-edu"
    assert "usage: python -m medai_edu.training" in _terminal(students[RIGHT], base, RIGHT, retrain)

    assert not watch.offsite, f"hub pages reached off this machine: {watch.offsite[:5]}"
    points, total = _points()
    for user, answers in ANSWERS.items():
        expected = sum(points[TESTS_OF[g]] for g in answers) if user == RIGHT else 0.0
        score, maximum = _feedback_score(students[user], base, user)
        assert (score, maximum) == (expected, total), (
            f"{user}: feedback says {score}/{maximum}, expected {expected}/{total}"
        )

    _assert_privacy(base, settings, students[RIGHT], course)
    _assert_servers(settings)
    log = (ARTIFACTS / "hub.log").read_text()
    assert re.search(r"200 GET /hub/api/users\S* \(idle-culler@", log), "the idle culler never read the hub's users"
    seconds = time.monotonic() - started
    load = os.getloadavg()[0]
    (ARTIFACTS / "timing.json").write_text(json.dumps({"seconds": round(seconds, 1), "load_1min": load}) + "\n")
    print(f"class on the hub: {seconds:.0f} s (load average {load:.1f})")
    # nbgrader's feedback HTML (nbconvert's template) asks for MathJax from a CDN; offline the request is
    # refused and formulas show as TeX. Nothing else may leave the machine.
    others = [url for url in watch.offsite if not url.startswith(FEEDBACK_MATHJAX)]
    assert not others, f"feedback pages reached off this machine: {others[:5]}"


@pytest.mark.slow
@needs_hub
def test_students_join_and_leave_while_the_hub_runs(hub, chromium):  # noqa: F811 - the fixture from test_browser
    """Added: their code works at once. Removed: out at once, server stopped, files kept. No restart."""
    base, settings, _, folder = hub
    watch = browser_page.Watch()
    (folder / "late.csv").write_text(f"username,role\n{INSTRUCTOR},instructor\n{LATE},student\n")
    output = hub_cli(settings, "add-users", str(folder / "late.csv"), "--codes-dir", str(folder / "late-codes"))
    assert "password (shown once" not in output, "the instructor's password was set again"
    codes = _codes(folder / "late-codes")
    assert set(codes) == {LATE}, f"codes were issued again for students who have them: {sorted(codes)}"
    page = _sign_up(chromium, base, LATE, codes[LATE], watch)
    home = Path(pwd.getpwnam(LATE).pw_dir)
    assert (home / "lessons" / "00_welcome").is_dir()

    output = hub_cli(settings, "remove-users", LATE)
    assert "their servers are stopped" in output, output
    deadline = time.monotonic() + 30
    while subprocess.run(["pgrep", "-u", LATE, "-f", "jupyterhub-singleuser"], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, f"{LATE}'s server still runs 30 s after the removal"
        time.sleep(1)
    assert page.request.get(f"{base}/hub/api/user").status == 403, "the removed student's session still works"
    page.goto(f"{base}/user/{LATE}/lab")
    page.wait_for_url("**/hub/login**")
    _submit_log_in(page, base, LATE, PASSWORDS[LATE])
    _refused(page, base, ".login_error", "Invalid username or password")
    assert (home / "lessons" / "00_welcome").is_dir(), "the removed student's files are gone"


def _assert_privacy(base: str, settings: HubSettings, page, course: Path) -> None:
    """A student can open neither another student's files nor the instructor's course folder."""
    other = Path(pwd.getpwnam(WRONG).pw_dir) / LESSON / f"{LESSON}.ipynb"
    own = Path(pwd.getpwnam(RIGHT).pw_dir) / LESSON / f"{LESSON}.ipynb"
    assert _as_user(RIGHT, "cat", str(own)).returncode == 0, "control: a student reads their own notebook"
    assert _as_user(INSTRUCTOR, "ls", str(course / "solutions")).returncode == 0, "control: the instructor's folder"
    for path in [other, course, course / "solutions" / LESSON / f"{LESSON}.ipynb", settings.course / "solutions"]:
        result = _as_user(RIGHT, "ls", "-l", str(path))
        assert result.returncode != 0 and "Permission denied" in result.stderr, f"a student can open {path}"
    # Through the hub: another student's server refuses the first student's browser session.
    response = page.request.get(f"{base}/user/{WRONG}/api/contents/{LESSON}", max_redirects=0)
    assert response.status in (302, 403, 404), f"{RIGHT} reached {WRONG}'s server: HTTP {response.status}"
    formgrader = page.request.get(f"{base}/user/{RIGHT}/formgrader", max_redirects=0)
    assert formgrader.status == 404, f"a student's own server offers the formgrader: HTTP {formgrader.status}"


def _assert_servers(settings: HubSettings) -> None:
    """Each student's server: its own memory and CPU cgroup, the shared data cache, the student config, graded mode."""
    for user in ANSWERS:
        pid = subprocess.run(["pgrep", "-u", user, "-f", "jupyterhub-singleuser"], capture_output=True, text=True)
        assert pid.stdout.split(), f"no running server of {user}"
        proc = Path(f"/proc/{pid.stdout.split()[0]}")
        environ = dict(line.split("=", 1) for line in proc.joinpath("environ").read_text().split("\0") if "=" in line)
        assert environ.get("MEDAI_EDU_SHARED_CACHE") == str(settings.shared_cache)
        assert environ.get("JUPYTER_CONFIG_PATH") == str(settings.role_config("student"))
        assert environ.get("MEDAI_EDU_GRADED") == "1"
        if limits.cgroup_version() is not None:  # else nothing is enforced here (the hub's log says so)
            groups = proc.joinpath("cgroup").read_text()
            assert f"{limits.PARENT}/{user}" in groups, f"{user}'s server is not in its cgroup:\n{groups}"


@needs_hub
def test_memory_and_cpu_limits_are_enforced():
    """A process that joins a user's cgroup (as the spawner's servers do) is stopped at the memory limit."""
    if os.geteuid() != 0 or limits.cgroup_version() is None:
        pytest.skip("no writable cgroup file system here: the hub enforces no limits (see docs/hub.md)")
    name = f"{PREFIX}probe"
    user_limits = limits.prepare(name, "200M", 0.5)
    try:
        assert len(user_limits.enforced) == 2, user_limits.missing
        hog = "b = bytearray(600 * 2**20); b[::4096] = b'x' * len(b[::4096]); print('survived')"
        result = subprocess.run(
            ["python3", "-c", hog], preexec_fn=user_limits.join, capture_output=True, text=True, timeout=120
        )
        assert result.returncode != 0 and "survived" not in result.stdout, "600 MB fit into a 200 MB limit"
        spin = "import time\nt = time.time()\nwhile time.time() - t < 2: pass\nimport os; print(os.times().user)"
        result = subprocess.run(
            ["python3", "-c", spin], preexec_fn=user_limits.join, capture_output=True, text=True, timeout=60
        )
        assert float(result.stdout) < 1.5, f"half a core for 2 s gave {result.stdout.strip()} CPU-seconds"
    finally:
        user_limits.remove()


# --- the pieces, without a hub ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name,role\na,student\n", "header row with the columns username,role"),
        ("username,role\nAlice,student\n", "line 2: user name 'Alice'"),
        ("username,role\nalice,teacher\n", "line 2: role 'teacher'"),
        ("username,role\nalice,student\nalice,student\n", "line 3: alice is listed twice"),
    ],
)
def test_roster_errors_name_the_line_and_what_was_expected(tmp_path, text, expected):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(HubError, match=re.escape(expected)):
        roster.read_roster(path)


def test_a_hub_has_exactly_one_instructor(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("username,role,name\nann,instructor,Ann\nbob,instructor,Bob\ncid,student,Cid\n")
    with pytest.raises(HubError, match="exactly one instructor.*ann.*bob"):
        roster.add_users(HubSettings(root=tmp_path / "srv"), path)
    assert [m.username for m in roster.read_roster(path)] == ["ann", "bob", "cid"]


def test_system_accounts_are_refused(tmp_path):
    with pytest.raises(HubError, match=r"root is a system account \(uid 0\)"):
        roster.ensure_account("root")
    path = tmp_path / "roster.csv"
    path.write_text("username,role\nann,instructor\nnewstudent,student\nroot,student\n")
    with pytest.raises(HubError, match=r"\['root'\] are system accounts"):
        roster.add_users(HubSettings(root=tmp_path / "srv"), path)
    with pytest.raises(KeyError):
        pwd.getpwnam("newstudent")  # refused before any account was made


def test_lessons_are_copied_once_and_work_is_never_overwritten(tmp_path):
    source = tmp_path / "course"
    for lesson in ("00_a", "01_b"):
        (source / lesson).mkdir(parents=True)
        (source / lesson / f"{lesson}.ipynb").write_text("released")
    (tmp_path / "home").mkdir()
    home = tmp_path / "home" / "lessons"
    assert copy_missing_lessons(source, home) == ["00_a", "01_b"]
    (home / "00_a" / "00_a.ipynb").write_text("the student's work")
    (source / "02_c").mkdir()
    (source / "02_c" / "02_c.ipynb").write_text("released later")
    assert copy_missing_lessons(source, home) == ["02_c"]
    assert (home / "00_a" / "00_a.ipynb").read_text() == "the student's work"


def test_settings_round_trip_and_refuse_unknown_keys(tmp_path):
    settings = HubSettings(root=tmp_path, instructor="ann", mem_limit="1G", code_days=7)
    loaded = HubSettings.load(settings.save())
    assert (loaded.instructor, loaded.code_days, loaded.mem_limit, loaded.root) == ("ann", 7, "1G", tmp_path)
    data = json.loads(settings.path.read_text())
    settings.path.write_text(json.dumps({**data, "memory": "2G"}))
    with pytest.raises(HubError, match=r"unknown settings \['memory'\]"):
        HubSettings.load(settings.path)
    # A hub set up before sign-up codes: first-use passwords are gone; the login becomes codes.
    settings.path.write_text(json.dumps({**data, "authenticator": "firstuse", "students": ["bob"]}))
    assert HubSettings.load(settings.path).authenticator == "codes"
    with pytest.raises(HubError, match="one was given"):
        HubSettings(root=tmp_path, ssl_cert="/etc/cert.pem")
    with pytest.raises(HubError, match="user name 'Ann'"):
        HubSettings(root=tmp_path, instructor="Ann")
    with pytest.raises(ValueError, match="expected a size such as 2G"):
        limits.parse_bytes("two gigabytes")
    assert limits.parse_bytes("1.5G") == 3 << 29


def test_role_configs_point_nbgrader_at_the_exchange_and_the_instructors_course(tmp_path):
    from traitlets.config.loader import PyFileConfigLoader

    settings = HubSettings(root=tmp_path / "srv", instructor="ann")
    home = tmp_path / "ann"
    settings.instructor_course(home).mkdir(parents=True)
    (settings.instructor_course(home) / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.source_directory = 'solutions'\n"
    )
    launch.write_role_configs(settings, home)
    student = PyFileConfigLoader("nbgrader_config.py", path=str(settings.role_config("student"))).load_config()
    teacher = PyFileConfigLoader("nbgrader_config.py", path=str(settings.role_config("instructor"))).load_config()
    assert student.Exchange.root == teacher.Exchange.root == str(settings.exchange)
    assert student.CourseDirectory.course_id == teacher.CourseDirectory.course_id == "medai-edu"
    assert "root" not in student.CourseDirectory
    assert teacher.CourseDirectory.root == str(settings.instructor_course(home))
    assert teacher.CourseDirectory.source_directory == "solutions"  # the course's own config is loaded too
    # Students get the JupyterLab of `make lab` and Binder (no instructor tools); the instructor keeps them.
    for name in ("jupyter_server_config.json", "labconfig/page_config.json"):
        written = settings.role_config("student") / name
        assert written.read_text() == (lab.STUDENT_CONFIG / name).read_text()
        assert written.stat().st_mode & 0o777 == 0o644
    lab_config = {role: _lab_config(settings.role_config(role)) for role in ("student", "instructor")}
    for plugin in lab.INSTRUCTOR_PLUGINS:
        assert plugin in lab_config["student"]["disabledExtensions"]
        assert plugin not in lab_config["instructor"]["disabledExtensions"]
    for extension in lab.INSTRUCTOR_EXTENSIONS:
        assert lab_config["student"]["jpserver_extensions"][extension] is False
        assert lab_config["instructor"]["jpserver_extensions"][extension] is True


def test_every_servers_kernels_talk_over_unix_sockets_not_shared_loopback_ports(tmp_path, monkeypatch):
    """30 servers starting kernels at once on one loopback picked the same free ports (kernels restarted, one
    died, a server reached another user's kernel): the role configs put every kernel on Unix sockets."""
    from jupyter_server.serverapp import ServerApp
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

    settings = HubSettings(root=tmp_path / "srv", instructor="ann")
    launch.write_role_configs(settings, None)
    for role in ("student", "instructor"):
        monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(settings.role_config(role)))
        app = ServerApp()
        app.load_config_file()  # what a spawned server reads at start
        kernels = AsyncMappingKernelManager(parent=app)
        kernel = kernels.kernel_manager_factory(parent=kernels, connection_file=str(tmp_path / "kernel-1.json"))
        assert (kernel.transport, kernel.ip) == ("ipc", str(tmp_path / "kernel-1-ipc")), role
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(tmp_path))  # without the role config: loopback TCP
    app = ServerApp()
    app.load_config_file()
    assert AsyncMappingKernelManager(parent=app).kernel_manager_factory(parent=app).transport == "tcp"


@pytest.mark.skipif(
    not Path(HubSettings().kernel_python).exists(), reason="no kernel environment: `make test` builds it (make hub)"
)
def test_every_servers_kernels_run_the_library_alone(tmp_path, monkeypatch):
    """The hub's servers find the kernels of the library-only environment first (JUPYTER_PATH), both the
    course's kernel and "python3" (whose plain "python" a server would take for its own): a kernel started
    as a server starts it imports medai_edu and none of the course operations. A student's terminal finds
    that Python; the instructor's finds medai-edu and nbgrader. Retraining needs no course operations."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel
    from traitlets.config import Config

    settings = HubSettings(root=tmp_path / "srv", instructor="ann")
    c = Config()
    config.apply(c, settings)
    environment = c.Spawner.environment
    monkeypatch.setenv("JUPYTER_PATH", environment["JUPYTER_PATH"])
    specs = KernelSpecManager().get_all_specs()
    assert {"medai-edu", "python3"} <= set(specs)
    pythons = {name: spec["spec"]["argv"][0] for name, spec in specs.items()}
    assert pythons == dict.fromkeys(specs, settings.kernel_python)
    manager, client = start_new_kernel(kernel_name="medai-edu")
    try:
        assert _ask_kernel(client) == {"python": settings.kernel_python, **LIBRARY_ONLY}
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    helped = subprocess.run(
        [settings.kernel_python, "-m", "medai_edu.training", "--help"], capture_output=True, text=True
    )
    assert helped.returncode == 0 and "usage: python -m medai_edu.training" in helped.stdout, helped.stderr
    for user, first in (("bo", settings.kernel_python), ("ann", settings.python)):
        spawner = type("Spawner", (), {"user": type("User", (), {"name": user}), "environment": dict(environment)})
        c.Spawner.pre_spawn_hook(spawner)
        assert spawner.environment["PATH"].split(":")[0] == str(Path(first).parent), user


def _lab_config(folder: Path) -> dict:
    """What a server with ``folder`` first on JUPYTER_CONFIG_PATH reads (merged as JupyterLab and Jupyter Server
    merge it) in an environment that switched the instructor tools off, as Binder's and the cluster's image do."""
    from jupyter_server.extension.config import ExtensionConfigManager
    from jupyterlab_server.config import get_page_config

    paths = [str(folder), str(lab.STUDENT_CONFIG)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_CONFIG_PATH", os.pathsep.join(paths))
        disabled = get_page_config([])["disabledExtensions"]
    extensions = ExtensionConfigManager(read_config_path=paths).get_jpserver_extensions()
    return {"disabledExtensions": disabled, "jpserver_extensions": extensions}


def test_set_up_on_a_checkout_locks_out_others_and_says_so_once():
    """`hub setup` on a repository checkout: solutions/ and grading state lose group and other access (the
    owner, e.g. the instructor whose checkout it is, keeps theirs); it says what it changed, once."""
    with tempfile.TemporaryDirectory(prefix="medai-hub-checkout-") as folder:  # pytest's tmp_path is closed
        Path(folder).chmod(0o755)
        course = Path(folder) / "checkout"
        for path in (course, course / "course", course / "solutions", course / "feedback"):
            path.mkdir()
            path.chmod(0o755)
        (course / "gradebook.db").touch(mode=0o600)
        settings = HubSettings(root=Path(folder) / "srv", course=course)
        assert launch.protect_course(settings) == [course / "solutions", course / "feedback"]
        assert [oct((course / n).stat().st_mode & 0o777) for n in ("solutions", "feedback", "course")] == [
            "0o700",
            "0o700",
            "0o755",
        ]
        assert launch.protect_course(settings) == []


def test_a_python_in_a_closed_folder_is_reached_through_a_private_mount_namespace():
    with tempfile.TemporaryDirectory(prefix="medai-hub-python-") as folder:  # pytest's tmp_path is in a closed folder
        Path(folder).chmod(0o755)
        closed = Path(folder) / "root"
        (closed / "pyenv" / "bin").mkdir(parents=True)
        (closed / "pyenv" / "bin" / "python").touch()
        closed.chmod(0o700)
        command = launch.hub_command(HubSettings(python=str(closed / "pyenv" / "bin" / "python")))
        assert command[:4] == ["unshare", "--mount", "--propagation", "private"]
        assert f'mount -t tmpfs -o mode=711 medai-edu-hub "{closed}"' in command[6]
        assert f'mount --bind /run/medai-edu-hub-python "{closed / "pyenv"}"' in command[6]
        (closed / "venv" / "bin").mkdir(parents=True)
        (closed / "venv" / "bin" / "python").symlink_to(closed / "pyenv" / "bin" / "python")
        with pytest.raises(HubError, match="users cannot reach the course's Python"):  # the tmpfs would hide the venv
            launch.hub_command(HubSettings(python=str(closed / "venv" / "bin" / "python")))
        closed.chmod(0o755)
        assert launch.hub_command(HubSettings(python=str(closed / "pyenv" / "bin" / "python")))[0] != "unshare"


# --- who may log in, without a hub --------------------------------------------------------------------


def test_a_sign_up_code_works_once_only_for_its_name_until_it_expires(tmp_path):
    accounts = Accounts(tmp_path / "accounts.sqlite")
    accounts.add("ann", "instructor")
    for name in ("bob", "cid"):
        accounts.add(name, "student")
    bob, cid = accounts.issue_code("bob", days=14), accounts.issue_code("cid", days=14)
    for name, code in [("cid", bob), ("ann", bob), ("nobody", bob), ("bob", "AAAA-BBBB-CCCC")]:
        with pytest.raises(SignupError, match=f"not the sign-up code of '{name}'"):
            accounts.redeem(name, code, "long-enough-password")
    with pytest.raises(SignupError, match="at least 8 characters"):
        accounts.redeem("bob", bob, "short")
    accounts.redeem("bob", bob.lower().replace("-", " "), "bobs-password")  # typed from the slip, loosely
    assert accounts.check_password("bob", "bobs-password") and not accounts.check_password("bob", "wrong-password")
    with pytest.raises(SignupError, match="already been used"):
        accounts.redeem("bob", bob, "another-password")
    assert accounts.check_password("bob", "bobs-password"), "a refused second use changed the password"
    with pytest.raises(SignupError, match="expired on"):
        accounts.redeem("cid", cid, "cids-password", now=time.time() + 15 * 86400)
    again = accounts.issue_code("cid", days=14)  # re-issued: the earlier code is worthless
    with pytest.raises(SignupError, match="not the sign-up code"):
        accounts.redeem("cid", cid, "cids-password")
    accounts.redeem("cid", again, "cids-password")
    with pytest.raises(HubError, match="ann is the instructor"):
        accounts.issue_code("ann", days=14)  # the instructor's password is set at set-up, never by a code
    stored = (tmp_path / "accounts.sqlite").read_bytes()
    for secret in (bob, again, "bobs-password", "cids-password"):
        assert secret.replace("-", "").encode() not in stored and secret.encode() not in stored, "a secret in clear"
    assert stored.count(b"scrypt$") >= 4


def test_a_removed_student_is_out_and_can_be_added_again(tmp_path):
    accounts = Accounts(tmp_path / "accounts.sqlite")
    accounts.add("bob", "student", "Bob B")
    accounts.redeem("bob", accounts.issue_code("bob", days=1), "bobs-password")
    accounts.remove("bob")
    assert not accounts.allowed("bob") and not accounts.check_password("bob", "bobs-password")
    with pytest.raises(HubError, match="not on the roster"):
        accounts.issue_code("bob", days=1)
    accounts.add("bob", "student")
    member = accounts.member("bob")
    assert accounts.allowed("bob") and not member.has_password and member.display == "Bob B"
    accounts.bind_platform("bob", "https://lms.example anna-42")
    accounts.bind_platform("bob", "https://lms.example anna-42")
    with pytest.raises(HubError, match="belongs to another user of the learning platform"):
        accounts.bind_platform("bob", "https://lms.example someone-else")


def test_code_sheets_escape_names_and_stay_private(tmp_path):
    accounts = Accounts(tmp_path / "accounts.sqlite")
    accounts.add("bob", "student", '<img src=x onerror="alert(1)">')
    code = accounts.issue_code("bob", days=14)
    table, sheet = sheets.write_codes(tmp_path / "codes", {"bob": code}, accounts, "https://hub.example.org")
    page = sheet.read_text()
    assert "<img" not in page and "&lt;img src=x" in page and code in page
    assert "https://hub.example.org/hub/signup" in page
    assert table.read_text().splitlines()[1].startswith("bob,")
    for path in (table, sheet):
        assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "codes").stat().st_mode & 0o777 == 0o700


def test_certificate_checks(tmp_path):
    cert, key = self_signed(tmp_path)
    check_certificate(str(cert), str(key))
    other_cert, other_key = self_signed(tmp_path / "other")
    with pytest.raises(HubError, match="are not a certificate and its private key"):
        check_certificate(str(cert), str(other_key))
    key.chmod(0o644)
    with pytest.raises(HubError, match="readable by other users: run `chmod 600"):
        check_certificate(str(cert), str(key))
    with pytest.raises(HubError, match="does not exist"):
        check_certificate(str(tmp_path / "missing.pem"), str(key))


def test_the_hub_config_for_codes_lti_and_https(tmp_path):
    from traitlets.config import Config

    block = {
        "issuer": "https://moodle.example.edu",
        "client_id": "abc",
        "deployment_id": ["1", "2"],
        "key_set_url": "https://moodle.example.edu/mod/lti/certs.php",
        "authorize_url": "https://moodle.example.edu/mod/lti/auth.php",
    }
    c = Config()
    config.apply(c, HubSettings(root=tmp_path / "a", instructor="ann"))
    assert c.JupyterHub.authenticator_class == "medai_edu_ops.hub.auth.CodeAuthenticator"
    assert c.JupyterHub.bind_url.startswith("http://") and "ssl_cert" not in c.JupyterHub
    assert c.Authenticator.admin_users == {"ann"} and c.Authenticator.delete_invalid_users is True
    c = Config()
    https = {"ssl_cert": "/etc/hub/cert.pem", "ssl_key": "/etc/hub/key.pem"}
    config.apply(c, HubSettings(root=tmp_path / "b", instructor="ann", authenticator="lti", lti=block, **https))
    assert c.JupyterHub.authenticator_class == "medai_edu_ops.hub.auth.PlatformAuthenticator"
    assert c.PlatformAuthenticator.client_id == {"abc"} and c.PlatformAuthenticator.deployment_ids == ["1", "2"]
    assert c.PlatformAuthenticator.jwks_endpoint == block["key_set_url"]
    assert c.PlatformAuthenticator.username_key == "custom_username"
    assert c.JupyterHub.bind_url.startswith("https://") and c.JupyterHub.ssl_key == "/etc/hub/key.pem"
    assert c.JupyterHub.cookie_options == {"SameSite": "None", "Secure": True}  # the platform posts back cross-site
    with pytest.raises(HubError, match=r"missing \['key_set_url'\] and unknown \['jwks'\]"):
        HubSettings(authenticator="lti", lti={**{k: v for k, v in block.items() if k != "key_set_url"}, "jwks": "x"})
