"""Set up the hub's shared folders and start it (``make hub``, tests and load tests use the same code)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from medai_edu_ops.hub.settings import REPO, SETTINGS_ENV, HubError, HubSettings, check_certificate
from medai_edu_ops.lab import INSTRUCTOR_EXTENSIONS, INSTRUCTOR_PLUGINS, STUDENT_CONFIG

CONFIG_FILE = REPO / "deploy" / "hub" / "jupyterhub_config.py"
# Files of the installed course that only the instructor (and root) may read: solutions and hidden
# tests, and nbgrader's working state (the gradebook stores the source cells, hidden tests included).
PRIVATE = ("solutions", "gradebook.db", "submitted", "autograded", "feedback", ".grading")


def _nbgrader_config(settings: HubSettings, course_root: Path | None) -> str:
    lines = [
        "# Written by medai-edu hub set-up (ops/medai_edu_ops/hub/launch.py); rewritten at every start.",
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.course_id = {settings.course_id!r}",
        f"c.Exchange.root = {str(settings.exchange)!r}",
    ]
    if course_root is not None:  # the instructor: formgrader and nbgrader work in the private course folder
        lines += [
            f"c.CourseDirectory.root = {str(course_root)!r}",
            f"load_subconfig('nbgrader_config.py', path={str(course_root)!r})  # noqa: F821",
        ]
    return "\n".join(lines) + "\n"


def instructor_tools() -> dict[str, dict]:
    """The instructor's Jupyter settings that switch nbgrader's instructor tools on, also where the
    environment switched them off for students (Binder's and the Kubernetes image's do)."""
    return {
        "jupyter_server_config.json": {
            "ServerApp": {"jpserver_extensions": dict.fromkeys(INSTRUCTOR_EXTENSIONS, True)}
        },
        "labconfig/page_config.json": {"disabledExtensions": dict.fromkeys(INSTRUCTOR_PLUGINS, False)},
    }


# Every server's kernels talk to it over Unix sockets in the user's runtime folder, not TCP ports on
# the shared loopback: 30 servers starting kernels at once picked the same "free" port (ZMQError: Address
# already in use; kernels restarted, one died), and a server then connected to another user's kernel
# (Invalid Signature). Measured with `medai-edu bench hub --students 30` (docs/hub.md, section 8).
# Terminals: a server without a terminal of its own starts a login shell, whose PATH Debian's /etc/profile
# replaces; an interactive shell keeps the server's (students: the kernels' Python; the instructor: medai-edu).
# (A Python config file: Jupyter Server reads jupyter_server_config.d/ only for its extensions.)
SERVER_CONFIG = """\
# Written by medai-edu hub set-up (ops/medai_edu_ops/hub/launch.py).
import os
c.KernelManager.transport = "ipc"  # kernels on Unix sockets, not loopback ports
c.ServerApp.terminado_settings = {"shell_command": [os.environ.get("SHELL") or "/bin/bash", "-i"]}
"""


def _publish(path: Path, text: str) -> None:
    """Write a config file everyone may read, atomically: a server starting meanwhile reads the old or the new."""
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o755)
    temporary = path.with_name(path.name + ".new")
    temporary.write_text(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def write_role_configs(settings: HubSettings, instructor_home: Path | None) -> None:
    """Jupyter config folders for the two roles (the spawner sets JUPYTER_CONFIG_PATH to one of them).

    Students get the config of `make lab` and Binder (jupyter-config/student: no Create Assignment,
    Validate, formgrader or course list); the instructor keeps these tools."""
    student, instructor = settings.role_config("student"), settings.role_config("instructor")
    for source in sorted(STUDENT_CONFIG.rglob("*")):
        if source.is_file():
            _publish(student / source.relative_to(STUDENT_CONFIG), source.read_text())
    _publish(student / "nbgrader_config.py", _nbgrader_config(settings, None))
    for name, data in instructor_tools().items():
        _publish(instructor / name, json.dumps(data, indent=2) + "\n")
    for folder in (student, instructor):
        _publish(folder / "jupyter_server_config.py", SERVER_CONFIG)
    course_root = settings.instructor_course(instructor_home) if instructor_home else None
    _publish(instructor / "nbgrader_config.py", _nbgrader_config(settings, course_root))
    os.chmod(student.parent, 0o755)


def _unreachable(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other users cannot enter, or None."""
    for folder in [*reversed(path.parents), path]:
        if folder.is_dir() and not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None


def protect_course(settings: HubSettings) -> list[Path]:
    """The installed course: readable by all, writable by none but its owner; solutions and grading state
    readable by their owner only (a checkout's owner keeps them; git records no change). Returns what it changed."""
    for path in (settings.course, settings.course / "course"):
        if not path.is_dir():
            raise HubError(f"the course is not installed at {settings.course}: expected {path}")
        if path.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise HubError(f"{path} is writable by other users: the installed course must be read-only for students")
    blocked = _unreachable(settings.course / "course")
    if blocked is not None:
        raise HubError(
            f"students cannot enter {blocked} (mode {oct(blocked.stat().st_mode & 0o777)}): install the course elsewhere"
        )
    changed = []
    for name in PRIVATE:
        path = settings.course / name
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0
        if mode & 0o077:
            os.chmod(path, mode & ~0o077)
            changed.append(path)
    return changed


def prepare(settings: HubSettings) -> list[Path]:
    """Create the hub's folders (state 700, exchange 1777, shared cache 755), the role configs, and save the settings.

    Returns the installed course's private files that other users could read until now (see :func:`protect_course`)."""
    if os.geteuid() != 0:
        raise HubError("the class hub runs as root (it starts each user's server as that user): run it with sudo")
    if not Path(settings.proxy).exists():
        raise HubError(f"configurable-http-proxy is not at {settings.proxy}: run `make hub` (it installs it from npm)")
    spec = settings.kernel_specs / "kernels" / "medai-edu" / "kernel.json"
    if not spec.is_file():
        raise HubError(f"the students' kernels are not set up (no {spec}): run `make hub` (it builds them)")
    settings.root.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.root, 0o755)
    settings.state.mkdir(exist_ok=True)
    os.chmod(settings.state, 0o700)  # database, cookie secret, passwords: root only
    settings.exchange.mkdir(exist_ok=True)
    os.chmod(settings.exchange, 0o1777)  # nbgrader's exchange: everyone writes, the sticky bit keeps others' files
    settings.shared_cache.mkdir(exist_ok=True)
    os.chmod(settings.shared_cache, 0o755)
    changed = protect_course(settings)
    if settings.ssl_cert:
        check_certificate(settings.ssl_cert, settings.ssl_key)
    home = None
    if settings.instructor:
        import pwd

        home = Path(pwd.getpwnam(settings.instructor).pw_dir)
    write_role_configs(settings, home)
    settings.save()
    return changed


def hub_command(settings: HubSettings) -> list[str]:
    """The command that runs the hub; wrapped in a private mount namespace where the course's Python
    lives in a folder users cannot enter (e.g. pyenv under /root): there that folder is replaced by an
    empty one (mode 711) holding only the Python installation, so root's other files stay hidden."""
    command = [settings.python, "-m", "jupyterhub", "-f", str(CONFIG_FILE)]
    prefix = Path(os.path.realpath(settings.python)).parent.parent
    blocked = _unreachable(prefix)
    if blocked is None:
        return command
    inside = blocked / prefix.relative_to(blocked).parts[0]
    closed = [
        f
        for f in [prefix, *prefix.parents]
        if inside in [f, *f.parents] and f.exists() and not f.stat().st_mode & stat.S_IXOTH
    ]
    venv = Path(settings.python).absolute().parent
    if closed or (blocked in venv.parents and inside not in venv.parents):
        raise HubError(
            f"users cannot reach the course's Python ({settings.python}, installed in {prefix}): "
            f"expected it outside {blocked}, or in one folder of it that everyone may enter"
        )
    keep = "/run/medai-edu-hub-python"
    script = (
        f'mkdir -p {keep} && mount --bind "{inside}" {keep} && '
        f'mount -t tmpfs -o mode=711 medai-edu-hub "{blocked}" && mkdir "{inside}" && '
        f'mount --bind {keep} "{inside}" && exec "$@"'
    )
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *command]


def hub_environment(settings: HubSettings) -> dict[str, str]:
    return {**os.environ, SETTINGS_ENV: str(settings.path)}


def run(settings: HubSettings) -> int:
    """Run the hub in the foreground until Ctrl+C (``make hub``)."""
    print(f"JupyterHub for {settings.course_id}: {settings.url}/  (Ctrl+C stops it)", flush=True)
    if not settings.ssl_cert and settings.ip not in ("127.0.0.1", "localhost"):
        print(
            "Warning: plain HTTP on a network address: passwords cross the network readable. Give a certificate "
            "(make hub SSL_CERT=... SSL_KEY=..., docs/hub.md 'HTTPS') or put a TLS proxy in front.",
            flush=True,
        )
    try:
        return subprocess.call(hub_command(settings), cwd=settings.state, env=hub_environment(settings))
    except KeyboardInterrupt:
        return 0


@contextmanager
def running_hub(settings: HubSettings, log: Path, timeout: float = 120) -> Iterator[str]:
    """The hub started in the background (tests, load tests); yields its base URL and stops it after."""
    from medai_edu_ops.browser.servers import _serve

    health = f"http://127.0.0.1:{settings.api_port}/hub/health"  # the hub itself: plain HTTP on loopback
    env = {SETTINGS_ENV: str(settings.path)}
    try:
        with _serve(hub_command(settings), health, log, settings.state, env, timeout):
            yield settings.url
    finally:
        stop_orphaned_proxy(settings)


def stop_orphaned_proxy(settings: HubSettings) -> None:
    """The proxy runs in its own session: a hub that was killed (not stopped) leaves it running; stop it by its pid file."""
    try:
        pid = int((settings.state / "proxy.pid").read_text())
        if "configurable-http-proxy" in Path(f"/proc/{pid}/cmdline").read_text():
            os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        pass
