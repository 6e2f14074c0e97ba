"""The data cache: per-user folder, shared read-only folder, read-only arrays, one build at a time."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import platformdirs
import pytest
from medai_edu_ops import cli

from medai_edu.data import cache, prebuild

SETTINGS = {"n": 3, "version": 1}


def _make() -> dict[str, np.ndarray]:
    return {"images": np.arange(12, dtype=np.float32).reshape(3, 4)}


@pytest.fixture()
def user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "user"))
    monkeypatch.delenv(cache.SHARED_ENV_VAR, raising=False)
    return tmp_path / "user"


def test_the_default_folder_is_the_users_cache_and_the_variable_overrides_it(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    assert cache.cache_dir() == Path(platformdirs.user_cache_dir("medai-edu", appauthor=False))
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path))
    assert cache.cache_dir() == tmp_path


def test_arrays_come_back_read_only_whether_built_or_read(user_cache):
    for arrays in (cache.cached("entry", SETTINGS, _make), cache.cached("entry", SETTINGS, _make)):
        with pytest.raises(ValueError, match="read-only"):
            arrays["images"][0, 0] = 99.0
    np.testing.assert_array_equal(cache.load("entry", SETTINGS)["images"], _make()["images"])


def test_a_shared_cache_is_read_and_never_written(user_cache, tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    cache.save("entry", SETTINGS, _make(), folder=shared)
    before = {p.name: p.stat().st_mtime_ns for p in shared.iterdir()}
    monkeypatch.setenv(cache.SHARED_ENV_VAR, str(shared))

    arrays = cache.cached("entry", SETTINGS, lambda: pytest.fail("built although the shared cache holds it"))
    np.testing.assert_array_equal(arrays["images"], _make()["images"])
    assert not user_cache.exists() or not list(user_cache.glob("*.npz"))

    other = {"n": 4, "version": 1}  # not in the shared cache: built into the user's own
    cache.cached("entry", other, _make)
    assert (user_cache / "entry.npz").is_file()
    assert {p.name: p.stat().st_mtime_ns for p in shared.iterdir()} == before


def test_a_corrupted_shared_entry_is_reported_and_rebuilt_in_the_users_cache(user_cache, tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    cache.save("entry", SETTINGS, _make(), folder=shared)
    (shared / "entry.npz").write_bytes(b"not an npz")
    monkeypatch.setenv(cache.SHARED_ENV_VAR, str(shared))
    with pytest.warns(UserWarning, match="corrupted"):
        arrays = cache.cached("entry", SETTINGS, _make)
    np.testing.assert_array_equal(arrays["images"], _make()["images"])
    assert (shared / "entry.npz").read_bytes() == b"not an npz"
    assert (user_cache / "entry.npz").is_file()


BUILDER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from medai_edu.data import cache
    def make():
        with open(sys.argv[1], "a") as log:
            log.write("built\\n")
        time.sleep(1.5)
        return {"images": np.arange(12, dtype=np.float32).reshape(3, 4)}
    arrays = cache.cached("entry", {"n": 3, "version": 1}, make)
    print(float(arrays["images"].sum()))
    """
)


def test_two_kernels_asking_at_once_build_the_entry_once(user_cache, tmp_path):
    log = tmp_path / "builds.log"
    env = dict(os.environ, **{cache.ENV_VAR: str(user_cache)})
    runs = [
        subprocess.Popen([sys.executable, "-c", BUILDER, str(log)], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs == ["66.0", "66.0"]
    assert log.read_text().count("built") == 1


def test_cache_build_fills_a_folder_everyone_can_read(tmp_path, monkeypatch):
    built = []
    monkeypatch.setattr(
        prebuild, "LESSON_DATA", {"tiny": lambda progress: built.append(cache.cached("t", SETTINGS, _make))}
    )
    monkeypatch.setenv(cache.SHARED_ENV_VAR, str(tmp_path / "elsewhere"))
    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    folder = tmp_path / "shared"
    stale = [folder / f"result-an_older_course-0123456789abcdef{suffix}" for suffix in (".npz", ".json", ".lock")]
    folder.mkdir()
    for path in stale:  # what a build of an earlier version of the course left
        path.write_text("")
    assert cli.main(["cache", "build", "--into", str(folder), "--no-progress"]) == 0
    assert built and (folder / "t.npz").is_file()
    assert not any(path.exists() for path in stale), "a result no lesson reads any more was kept"
    assert len(list(folder.glob("result-*.npz"))) > 10  # today's results stay
    for path in [folder, *folder.iterdir()]:
        assert path.stat().st_mode & stat.S_IROTH, path


def test_reading_an_entry_writes_nothing_so_a_read_only_cache_works(user_cache):
    cache.save("entry", SETTINGS, _make())
    (user_cache / "entry.lock").unlink(missing_ok=True)
    before = sorted(p.name for p in user_cache.iterdir())
    cache.cached("entry", SETTINGS, lambda: pytest.fail("built although the cache holds it"))
    assert sorted(p.name for p in user_cache.iterdir()) == before  # no lock file: the grader's view is read-only
