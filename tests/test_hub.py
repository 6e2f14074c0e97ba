"""The class hub end to end, in Chromium: an instructor and two students on a real JupyterHub.

The hub is the one ``make hub`` runs (deploy/hub/jupyterhub_config.py, medai_edu/hub/), started on a
free loopback port with test-only settings: the dummy authenticator (one test password) and three
test-only local accounts (unique ``mdt...`` names, removed afterwards). The instructor releases lesson
00 from the formgrader; two students fetch it from the Assignments list, answer two exercises (one
student right, one wrong) and submit; the instructor collects in the formgrader, autogrades with
``medai-edu grade`` (the isolated grader) in a JupyterLab terminal and releases feedback; each student
fetches the feedback and sees the expected score. Needs root (accounts, cgroups) and Chromium.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from conftest import ROOT
from test_browser import chromium  # noqa: F401 - the same Chromium fixture as the browser tests

from medai_edu.browser import page as browser_page
from medai_edu.browser.servers import free_port
from medai_edu.hub import launch, limits, roster
from medai_edu.hub.lessons import copy_missing_lessons
from medai_edu.hub.settings import HubError, HubSettings

ARTIFACTS = ROOT / "test-artifacts" / "hub"
LESSON = "00_welcome"
PASSWORD = "test-only-" + uuid.uuid4().hex[:12]
PREFIX = "mdt" + uuid.uuid4().hex[:5]
INSTRUCTOR, RIGHT, WRONG = f"{PREFIX}i", f"{PREFIX}a", f"{PREFIX}b"
# Two exercises: the right student answers both correctly, the wrong student answers both wrongly.
ANSWERS = {
    RIGHT: {
        "warmup-prevalence": "prevalence = (TP + FN) / (TP + FP + FN + TN)",
        "mc-screening": 'answer_screening = "C"',
    },
    WRONG: {"warmup-prevalence": "prevalence = 0.5", "mc-screening": 'answer_screening = "A"'},
}
TESTS_OF = {"warmup-prevalence": "test-warmup-prevalence", "mc-screening": "test-mc-screening"}
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


@pytest.fixture(scope="module")
def hub():
    """The class hub on free loopback ports with test users; accounts and folders removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="medai-hub-test-"))
    os.chmod(folder, 0o755)  # students must reach the installed course below it
    course = folder / "installed"
    course.mkdir()
    for name in ("course", "solutions"):
        shutil.copytree(ROOT / name, course / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    (folder / "roster.csv").write_text(f"username,role\n{INSTRUCTOR},instructor\n{RIGHT},student\n{WRONG},student\n")
    settings = HubSettings(
        root=folder / "srv",
        course=course,
        authenticator="dummy",
        dummy_password=PASSWORD,
        port=free_port(),
        hub_port=free_port(),
        proxy_api_port=free_port(),
        mem_limit="2G",
        cpu_limit=1.0,
    )
    try:
        launch.prepare(settings)
        roster.add_users(settings, folder / "roster.csv")
        launch.prepare(settings)  # role configs now know the instructor's course folder
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with launch.running_hub(settings, ARTIFACTS / "hub.log", timeout=120) as base:
            yield base, settings
    finally:
        roster.remove_users([INSTRUCTOR, RIGHT, WRONG])
        shutil.rmtree(folder, ignore_errors=True)


# --- what a user does -------------------------------------------------------------------------------


def _log_in(browser, base: str, user: str, watch: browser_page.Watch):
    page = browser_page.new_page(browser, watch)
    page.set_default_timeout(120_000)  # a page of a busy hub on 2 loaded cores
    page.goto(f"{base}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/lab**", timeout=TIMEOUT_MS)
    page.wait_for_selector(".jp-DirListing-item", timeout=TIMEOUT_MS)
    return page


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
    found = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", text)
    assert found, f"{user}'s feedback shows no score:\n{text[:1500]}"
    browser_page.screenshot(page, ARTIFACTS / f"feedback-{user[-1]}.png")
    return float(found.group(1)), float(found.group(2))


def _points() -> tuple[dict[str, float], float]:
    cells = json.loads((ROOT / "solutions" / LESSON / f"{LESSON}.ipynb").read_text())["cells"]
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
    base, settings = hub
    started = time.monotonic()
    watch = browser_page.Watch()
    teacher = _log_in(chromium, base, INSTRUCTOR, watch)
    _formgrader(teacher, base, INSTRUCTOR, "release")
    assert (settings.exchange / settings.course_id / "outbound" / LESSON / f"{LESSON}.ipynb").exists()

    students = {}
    for user, answers in ANSWERS.items():
        page = _assignments(_log_in(chromium, base, user, watch))
        _click_in_list(page, "released_assignments_list", "Fetch")
        page.locator("#fetched_assignments_list .list_item", has_text=LESSON).first.wait_for()
        assert (Path(pwd.getpwnam(user).pw_dir) / LESSON / f"{LESSON}.ipynb").exists()
        _answer(page, base, user, answers)
        _assignments(page)
        page.locator("#refresh_assignments_list").click()
        page.wait_for_timeout(1000)
        _click_in_list(page, "fetched_assignments_list", "Submit")
        page.locator("#submitted_assignments_list .list_item", has_text=LESSON).first.wait_for(timeout=TIMEOUT_MS)
        students[user] = page

    _formgrader(teacher, base, INSTRUCTOR, "collect")
    course = settings.instructor_course(Path(pwd.getpwnam(INSTRUCTOR).pw_dir))
    for user in ANSWERS:
        assert (course / "submitted" / user / LESSON / f"{LESSON}.ipynb").exists(), f"{user}'s work was not collected"
    grader = Path(settings.python).parent / "medai-edu"
    output = _terminal(teacher, base, INSTRUCTOR, f"cd {course} && {grader} grade {LESSON} --workers 2")
    (ARTIFACTS / "grade-output.txt").write_text(output)
    _formgrader(teacher, base, INSTRUCTOR, "release-feedback")

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
    settings = HubSettings(root=tmp_path, instructor="ann", students=["bob"], mem_limit="1G")
    loaded = HubSettings.load(settings.save())
    assert (loaded.instructor, loaded.students, loaded.mem_limit, loaded.root) == ("ann", ["bob"], "1G", tmp_path)
    data = json.loads(settings.path.read_text())
    settings.path.write_text(json.dumps({**data, "memory": "2G"}))
    with pytest.raises(HubError, match=r"unknown settings \['memory'\]"):
        HubSettings.load(settings.path)
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
    server = json.loads((settings.role_config("student") / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is False


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
