"""The class hub's spawner: a local process per user, inside the user's cgroups, with the course set up.

Imported only by the hub process (it needs JupyterHub).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import sys
from collections.abc import Callable
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from tornado import web
from traitlets import Bool, Unicode

from medai_edu_ops.hub import limits


class CourseSpawner(LocalProcessSpawner):
    """LocalProcessSpawner that enforces ``mem_limit`` and ``cpu_limit`` with cgroups where it can."""

    lessons_source = Unicode("", help="the installed course's course/ folder, copied to ~/lessons at first spawn").tag(
        config=True
    )
    enforce_limits = Bool(True, help="put each server in a memory and CPU cgroup").tag(config=True)

    _limits: limits.UserLimits | None = None

    async def start(self) -> str | tuple[str, int]:  # as LocalProcessSpawner: (ip, port)
        try:
            if self.lessons_source:
                await copy_lessons_as_user(self.user.name, Path(self.lessons_source))
            if self.enforce_limits:
                self._limits = limits.prepare(self.user.name, self.mem_limit, self.cpu_limit)
                for line in self._limits.enforced:
                    self.log.info("%s: enforcing %s", self.user.name, line)
                for line in self._limits.missing:
                    self.log.warning("%s: %s", self.user.name, line)
            return await super().start()
        except Exception as error:  # said in the hub's answer (the API, the spawn page), not only in its log
            self.log.exception("%s's server did not start", self.user.name)
            what = f"{type(error).__name__}: {error}".splitlines()[0][:300]
            raise web.HTTPError(500, f"{self.user.name}'s server did not start ({what})") from error

    def make_preexec_fn(self, name: str) -> Callable[[], None]:
        drop_to_user = super().make_preexec_fn(name)
        user_limits = self._limits

        def preexec() -> None:  # runs in the child, as root, before it becomes the user
            if user_limits is not None:
                user_limits.join()
            drop_to_user()

        return preexec

    async def stop(self, now: bool = False) -> None:
        await super().stop(now=now)
        if self._limits is not None:
            self._limits.remove()


async def copy_lessons_as_user(username: str, source: Path) -> None:
    """Give the user a writable copy of each lesson in ~/lessons, once: lessons already there are left alone.

    The copy runs as the user (never as root inside a home the user controls)."""
    account = pwd.getpwnam(username)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "medai_edu_ops.hub.student_copy",
        str(source),
        str(Path(account.pw_dir) / "lessons"),
        user=account.pw_uid,
        group=account.pw_gid,
        extra_groups=[],
        cwd=account.pw_dir,
        env={"HOME": account.pw_dir, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        said = output.decode(errors="replace").strip()[-2000:]
        last = said.splitlines()[-1] if said else "no output"
        raise RuntimeError(f"copying the lessons failed (exit status {process.returncode}: {last})\n{said}")
