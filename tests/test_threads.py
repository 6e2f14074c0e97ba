"""Compute threads sized to the CPUs a kernel may use, and passive waiting (medai_edu/threads.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from medai_edu import threads


def _cgroup_v2(root: Path, quotas: dict[str, str]) -> Path:
    """A cgroup v2 tree under ``root`` with ``cpu.max`` files at the given relative folders."""
    (root / "cgroup.controllers").parent.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text("cpu memory\n")
    for relative, text in quotas.items():
        folder = root / relative
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "cpu.max").write_text(text + "\n")
    return root


def test_cgroup_v2_quota_is_the_tightest_on_the_path(tmp_path):
    root = _cgroup_v2(tmp_path, {"": "max 100000", "kubepods": "250000 100000", "kubepods/pod1": "150000 100000"})
    assert threads.cgroup_quota("0::/kubepods/pod1\n", root) == pytest.approx(1.5)
    assert threads.cgroup_quota("0::/kubepods\n", root) == pytest.approx(2.5)
    assert threads.cgroup_quota("0::/\n", root) is None  # "max": no quota
    (root / "cpu.max").write_text("unexpected\n")
    assert threads.cgroup_quota("0::/\n", root) is None  # unreadable: no limit known, import never fails


def test_cgroup_v1_quota(tmp_path):
    folder = tmp_path / "cpu,cpuacct" / "docker" / "abc"
    folder.mkdir(parents=True)
    (folder / "cpu.cfs_quota_us").write_text("50000\n")
    (folder / "cpu.cfs_period_us").write_text("100000\n")
    assert threads.cgroup_quota("4:memory:/x\n3:cpu,cpuacct:/docker/abc\n", tmp_path) == pytest.approx(0.5)
    (folder / "cpu.cfs_quota_us").write_text("-1\n")
    assert threads.cgroup_quota("3:cpu,cpuacct:/docker/abc\n", tmp_path) is None


def test_budget_takes_the_smallest_limit_rounding_down(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    # Whatever this process's cgroup path is, the walk up reaches the fake root and its quota.
    root = _cgroup_v2(tmp_path, {"": "150000 100000"})
    budget = threads.cpu_budget({}, root)
    assert budget.limits["cgroup"] == pytest.approx(1.5)
    assert budget.threads == 1
    assert threads.cpu_budget({"CPU_LIMIT": "0.5"}, tmp_path / "none").threads == 1  # never below one
    assert threads.cpu_budget({"CPU_LIMIT": "64"}, tmp_path / "none").threads == affinity
    assert threads.cpu_budget({"MEDAI_EDU_THREADS": "3"}, root).threads == 3  # explicit wins


@pytest.mark.parametrize(
    ("env", "message"),
    [({"MEDAI_EDU_THREADS": "0"}, "MEDAI_EDU_THREADS"), ({"MEDAI_EDU_THREADS": "many"}, "MEDAI_EDU_THREADS"),
     ({"CPU_LIMIT": "two"}, "CPU_LIMIT"), ({"CPU_LIMIT": "-1"}, "CPU_LIMIT")],
)  # fmt: skip
def test_bad_settings_say_what_is_expected(env, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        threads.cpu_budget(env, tmp_path)


def test_configure_sets_only_what_the_user_did_not(tmp_path):
    env = {"CPU_LIMIT": "1", "OMP_NUM_THREADS": "4"}
    budget = threads.configure(env, tmp_path)
    assert budget is not None and budget.threads == 1
    assert env["OMP_NUM_THREADS"] == "4"  # the user's choice stays
    assert env["MKL_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"
    off = {"MEDAI_EDU_THREADS": "off", "CPU_LIMIT": "1"}
    assert threads.configure(off, tmp_path) is None
    assert off == {"MEDAI_EDU_THREADS": "off", "CPU_LIMIT": "1"}


def _torch_threads(env: dict[str, str], pin_one_cpu: bool = False) -> list[str]:
    pin = "os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}); " if pin_one_cpu else ""
    code = f"import os; {pin}import medai_edu, torch; print(torch.get_num_threads(), os.environ.get('OMP_WAIT_POLICY'))"
    clean = {k: v for k, v in os.environ.items() if k not in (*threads.THREAD_VARIABLES, "OMP_WAIT_POLICY")}
    done = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_importing_the_package_sizes_torch_before_it_loads():
    """A real kernel's view: ``import medai_edu`` then torch, under a spawner's limit or a CPU mask."""
    assert _torch_threads({"CPU_LIMIT": "1"}) == ["1", "PASSIVE"]
    assert _torch_threads({"MEDAI_EDU_THREADS": "1"}) == ["1", "PASSIVE"]
    if len(os.sched_getaffinity(0)) > 1:
        assert _torch_threads({}, pin_one_cpu=True) == ["1", "PASSIVE"]
    assert _torch_threads({"MEDAI_EDU_THREADS": "off", "CPU_LIMIT": "1"})[1] == "None"  # off: libraries' defaults


def test_benchmark_kernels_decide_their_threads_themselves(monkeypatch):
    """bench notebooks --threads: the kernel gets the mode, not what ``import medai_edu`` set here."""
    from medai_edu_ops.benchmarks import notebooks

    monkeypatch.setitem(threads._set_here, "OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    off = notebooks.thread_env("off")
    assert off[threads.ENV_VAR] == "off" and "OMP_WAIT_POLICY" not in off
    assert notebooks.thread_env(None)["OMP_WAIT_POLICY"] == "PASSIVE"  # no mode: the environment as it is


def test_benchmark_spinner_spins_and_stops():
    import time

    import psutil
    from medai_edu_ops.benchmarks.notebooks import Spinner

    with Spinner() as spinner:
        time.sleep(1.0)
        share = spinner.share()
        pid = spinner.process.pid
    assert share > 0.05, f"the busy process got {share:.2f} of a core"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
