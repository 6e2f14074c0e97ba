"""The Kubernetes path (deploy/k8s/): the values file is sized from the measured lessons, uses only
keys of the Zero-to-JupyterHub chart, and the image is built from binder/ as Binder builds it."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

K8S = ROOT / "deploy" / "k8s"
INSTRUCTOR_CSP = "jupyter-config/instructor/jupyter_server_config.d/medai-edu-formgrader-csp.json"
_spec = importlib.util.spec_from_file_location("k8s_sizing", K8S / "sizing.py")
sizing = sys.modules["k8s_sizing"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sizing)

# Every key path values.yaml may set, checked by hand against the chart's values.schema.yaml
# (release 4.4.0); "*" below a key: free-form there (JupyterHub config, env, k8s objects).
CHART_KEYS = {
    "hub.config.*",
    "hub.concurrentSpawnLimit",
    "hub.activeServerLimit",
    "hub.extraConfig.*",
    "singleuser.image.name",
    "singleuser.image.tag",
    "singleuser.cmd",
    "singleuser.defaultUrl",
    "singleuser.startTimeout",
    "singleuser.memory.guarantee",
    "singleuser.memory.limit",
    "singleuser.cpu.guarantee",
    "singleuser.cpu.limit",
    "singleuser.fsGid",
    "singleuser.extraEnv.*",
    "singleuser.lifecycleHooks.*",
    "singleuser.storage.type",
    "singleuser.storage.capacity",
    "singleuser.storage.homeMountPath",
    "singleuser.storage.extraVolumes",
    "singleuser.storage.extraVolumeMounts",
    "singleuser.extraFiles.*.mountPath",
    "singleuser.extraFiles.*.stringData",
    "singleuser.extraFiles.*.data.*",
    "prePuller.hook.enabled",
    "prePuller.continuous.enabled",
    "scheduling.userScheduler.enabled",
    "scheduling.podPriority.enabled",
    "scheduling.userPlaceholder.enabled",
    "scheduling.userPlaceholder.replicas",
    "cull.enabled",
    "cull.timeout",
    "cull.every",
    "cull.maxAge",
    "cull.users",
    "custom.*",
}


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load((K8S / "values.yaml").read_text())


@pytest.fixture(scope="module")
def benchmark() -> dict:
    return sizing.load_benchmark()


def _paths(tree: dict, prefix: str = "") -> list[str]:
    """Dotted paths to the leaves (lists count as leaves)."""
    paths = []
    for key, value in tree.items():
        path = f"{prefix}{key}"
        paths += _paths(value, path + ".") if isinstance(value, dict) and value else [path]
    return paths


def _allowed(path: str) -> bool:
    parts = path.split(".")
    for pattern in CHART_KEYS:
        wanted = pattern.split(".")
        if wanted[-1] == "*" and len(parts) >= len(wanted) and _match(parts[: len(wanted) - 1], wanted[:-1]):
            return True
        if len(parts) == len(wanted) and _match(parts, wanted):
            return True
    return False


def _match(parts: list[str], wanted: list[str]) -> bool:
    return all(w == "*" or w == p for p, w in zip(parts, wanted))


def test_values_use_only_keys_of_the_chart(values):
    unknown = [path for path in _paths(values) if not _allowed(path)]
    assert not unknown, f"keys the chart's schema does not have (or not checked yet): {unknown}"
    assert not _allowed("singleuser.memory.limits") and not _allowed("cull.timeOut")  # the check can fail


def _merged(defaults: dict, overrides: dict) -> dict:
    """Helm's merge: dictionaries merge, everything else is replaced."""
    merged = dict(defaults)
    for key, value in overrides.items():
        both = isinstance(value, dict) and isinstance(defaults.get(key), dict)
        merged[key] = _merged(defaults[key], value) if both else value
    return merged


@pytest.mark.skipif(
    not os.environ.get("Z2JH_CHART"), reason="set Z2JH_CHART to a zero-to-jupyterhub-k8s/jupyterhub folder"
)
def test_values_validate_against_the_chart_schema(values):
    """With the chart at hand (Z2JH_CHART): its defaults merged with ours pass its own schema, as in helm."""
    jsonschema = pytest.importorskip("jsonschema")
    chart = Path(os.environ["Z2JH_CHART"])
    schema = yaml.safe_load((chart / "values.schema.yaml").read_text())
    defaults = yaml.safe_load((chart / "values.yaml").read_text())
    jsonschema.validate(_merged(defaults, values), schema)
    with pytest.raises(jsonschema.ValidationError):  # the schema does reject a wrong key
        jsonschema.validate(_merged(defaults, {"singleuser": {"memory": {"limits": "2G"}}}), schema)


def _lessons() -> list[str]:
    return sorted(path.stem for path in (ROOT / "solutions").glob("*/*.ipynb"))


def test_every_lesson_has_a_measured_peak(benchmark):
    measured = benchmark["lessons"]
    missing = [name for name in _lessons() if name not in measured]
    assert not missing, (
        f"no measurement for {missing}: run `medai-edu bench notebooks --json "
        "ops/medai_edu_ops/measurements/notebooks_benchmark.json` with MEDAI_EDU_SHARED_CACHE set to a built cache (on a quiet machine) and update deploy/k8s/values.yaml"
    )
    for name in _lessons():
        for run in ("first_run", "second_run"):
            row = measured[name][run]
            assert row["peak_rss_mb"] > 100 and row["seconds"] > 0 and row["cpu_seconds"] > 0, (name, run, row)
            assert len(row["load_before"]) == 3, "each timing is shipped with its load average"
    assert re.match(r"\d{4}-\d\d-\d\dT", benchmark["machine"]["date"]) and benchmark["quick"] is False


def test_memory_limit_covers_every_lesson_with_headroom(values, benchmark):
    limit = sizing.mib(values["singleuser"]["memory"]["limit"])
    for name, need in sizing.memory_limit_needed_mib(benchmark).items():
        assert limit >= need, (
            f"{name}: kernel peak x {sizing.HEADROOM} + server = {need:.0f} MiB is over the memory limit "
            f"{limit:.0f} MiB in deploy/k8s/values.yaml"
        )


def test_guarantees_are_derived_as_documented(values, benchmark):
    guarantee = sizing.mib(values["singleuser"]["memory"]["guarantee"])
    derived = sizing.memory_guarantee_mib(benchmark)
    assert guarantee == derived, f"memory guarantee {guarantee:.0f} MiB; the measurements give {derived}M (sizing.py)"
    assert guarantee <= sizing.mib(values["singleuser"]["memory"]["limit"])
    assert values["singleuser"]["cpu"]["guarantee"] == sizing.cpu_guarantee(benchmark)
    assert values["singleuser"]["cpu"]["limit"] == sizing.CPU_LIMIT


def test_memory_quantities_read_as_kubespawner_reads_them():
    assert sizing.mib("2G") == 2048 and sizing.mib("1152M") == 1152 and sizing.mib("1.5Gi") == 1536
    with pytest.raises(ValueError, match="expected a number"):
        sizing.mib("two gigabytes")


def test_sizing_for_a_class_of_500(benchmark):
    plan = sizing.plan(benchmark, 500)
    assert plan.per_node >= 1 and plan.user_nodes * plan.per_node >= 500
    assert plan.home_gib == 500 and plan.exchange_gib >= 1


def test_the_measurements_are_of_kernels_reading_a_shared_cache_as_the_image_does(benchmark):
    """The image's kernels read the results built into it (appendix.Dockerfile): the sizing must come from
    kernels that did too, not from kernels computing every demonstration themselves."""
    appendix = (K8S / "appendix.Dockerfile").read_text()
    assert re.search(r"^RUN python -m medai_edu.shared_cache build --into (\S+)", appendix, re.M)
    assert re.search(r"^ENV MEDAI_EDU_SHARED_CACHE=", appendix, re.M)
    assert benchmark.get("shared_cache"), "measure with MEDAI_EDU_SHARED_CACHE set to a built cache"


def test_the_documented_sizing_is_the_measured_one(benchmark):
    """docs/kubernetes.md shows sizing.py's output for 500 students on the shipped measurements."""
    docs = (ROOT / "docs" / "kubernetes.md").read_text()
    shown = docs[docs.index("$ python deploy/k8s/sizing.py --students 500") :].split("```")[0]
    assert sizing.report(benchmark, 500) in shown, "re-run `python deploy/k8s/sizing.py --students 500` into section 5"
    plan = sizing.plan(benchmark, 500)
    table = re.search(r"\| memory guarantee \| (\d+)M .*\n.*\n\| CPU guarantee \| ([\d.]+) ", docs)
    assert table and int(table.group(1)) == sizing.memory_guarantee_mib(benchmark), "section 4's table"
    assert float(table.group(2)) == sizing.cpu_guarantee(benchmark)
    assert f"-> {plan.user_nodes} user nodes" in shown


def test_culling_and_the_exchange(values):
    cull = values["cull"]
    assert cull["enabled"] and 0 < cull["timeout"] <= 4 * 3600 and cull["every"] < cull["timeout"]
    storage = values["singleuser"]["storage"]
    mounts = {m["name"]: m["mountPath"] for m in storage["extraVolumeMounts"]}
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in storage["extraVolumes"]}
    exchange = [
        doc for doc in yaml.safe_load_all((K8S / "exchange.yaml").read_text()) if doc["kind"] == "PersistentVolumeClaim"
    ]
    assert len(exchange) == 1 and exchange[0]["spec"]["accessModes"] == ["ReadWriteMany"]
    volume = next(name for name, claim in claims.items() if claim == exchange[0]["metadata"]["name"])
    assert mounts[volume] == "/srv/nbgrader/exchange"
    for role in ("student", "instructor"):
        config = values["singleuser"]["extraFiles"][f"{role}-nbgrader"]["stringData"]
        assert 'c.Exchange.root = "/srv/nbgrader/exchange"' in config and 'course_id = "medai-edu"' in config


def test_students_get_the_lab_of_make_lab_and_the_instructor_keeps_the_tools(values):
    """The same Jupyter settings as the single-machine hub: students jupyter-config/student (no Create
    Assignment, Validate, formgrader, course list), the instructor the tools switched on again (the image,
    built like Binder's, switches them off for everyone) and the formgrader's CSP extension."""
    from medai_edu_ops.hub.launch import instructor_tools
    from medai_edu_ops.lab import STUDENT_CONFIG

    files = {f["mountPath"]: f.get("data") for f in values["singleuser"]["extraFiles"].values()}
    student = Path("/etc/medai-edu/student")
    for name in ("labconfig/page_config.json", "jupyter_server_config.json"):
        expected = json.loads((STUDENT_CONFIG / name).read_text())
        assert {k: v for k, v in files[str(student / name)].items() if k in expected} == expected, name
    instructor = Path("/etc/medai-edu/instructor")
    csp = json.loads((ROOT / INSTRUCTOR_CSP).read_text())["ServerApp"]["jpserver_extensions"]
    for name, expected in instructor_tools().items():
        if name == "jupyter_server_config.json":
            expected["ServerApp"]["jpserver_extensions"] |= csp
        assert {k: v for k, v in files[str(instructor / name)].items() if k in expected} == expected, name


def _build_script() -> tuple[str, list[str]]:
    script = (K8S / "build-image.sh").read_text()
    command = re.search(r'jupyter-repo2docker"(.*?)"\$work/context"', script, re.S)
    assert command, "build-image.sh must run jupyter-repo2docker on the course"
    return script, shlex.split(command.group(1).replace("\\\n", " "))


def test_image_is_built_by_repo2docker_from_binder(values):
    script, arguments = _build_script()
    assert re.search(r'REPO2DOCKER="jupyter-repo2docker==\d{4}\.\d+\.\d+"', script), "pin repo2docker"
    binder = {path.name for path in (ROOT / "binder").iterdir()}
    assert {"environment.yml", "postBuild"} <= binder
    assert not binder & {"Dockerfile", "requirements.txt", "Project.toml", "default.nix"}, (
        "repo2docker would read these"
    )
    target = arguments[arguments.index("--target-repo-dir") + 1]
    assert target == "/srv/medai-edu"  # outside the home volume that Zero to JupyterHub mounts
    assert target + "/course" in values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"][-1]
    private = re.search(r"PRIVATE=\(([^)]*)\)", script).group(1).split()
    assert "solutions" in private and "tests" in private, "hidden tests must stay out of the students' image"
    assert 'rm -rf "${work:?}/context/$path"' in script and 'git -C "$root" archive' in script


def test_image_appendix_installs_nothing_and_prebuilds_the_data():
    from medai_edu import shared_cache

    appendix = (K8S / "appendix.Dockerfile").read_text()
    steps = [line for line in appendix.splitlines() if line and not line.startswith("#")]
    assert not re.search(r"\b(pip|conda|mamba|apt-get|npm)\b", "\n".join(steps)), "install only through binder/"
    run = next(line for line in steps if line.startswith("RUN "))
    argv = shlex.split(run.removeprefix("RUN "))
    assert argv[:3] == ["python", "-m", "medai_edu.shared_cache"], "the image has the library only"
    shared_cache.parser().parse_args(argv[3:])  # a real command with real options
    shared = re.search(r"^ENV MEDAI_EDU_SHARED_CACHE=(\S+)$", appendix, re.M).group(1)
    assert argv[argv.index("--into") + 1] == shared


def test_python_in_the_values_compiles(values):
    """hub.extraConfig and the nbgrader configs are Python the hub and nbgrader will run."""
    snippets = dict(values["hub"]["extraConfig"])
    snippets |= {k: f["stringData"] for k, f in values["singleuser"]["extraFiles"].items() if k.endswith("nbgrader")}
    for name, code in snippets.items():
        compile(code, name, "exec")
    config = values["hub"]["extraConfig"]["medai-edu.py"]
    assert "c.KubeSpawner.uid = _uid" in config and "10000 + spawner.user.id" in config  # one uid per student


LTI_BLOCK = {
    "issuer": "https://moodle.example.edu",
    "client_id": "tool-7",
    "deployment_id": ["3"],
    "key_set_url": "https://moodle.example.edu/mod/lti/certs.php",
    "authorize_url": "https://moodle.example.edu/mod/lti/auth.php",
}


def _lti_config(values: dict, block: dict):
    """Run hub.extraConfig's LTI part as the chart's hub does, with ``block`` as custom.lti."""
    from traitlets.config import Config

    c = Config()
    exec(values["hub"]["extraConfig"]["medai-edu-lti.py"], {"c": c, "get_config": lambda key, default=None: block})
    return c


def test_login_is_the_learning_platform_not_first_use_passwords(values):
    text = (K8S / "values.yaml").read_text().lower()
    assert "firstuse" not in text and "first-use" not in text
    assert (
        values["hub"]["config"]["JupyterHub"]["authenticator_class"] == "ltiauthenticator.lti13.auth.LTI13Authenticator"
    )
    assert set(values["custom"]["lti"]) >= {"issuer", "client_id", "deployment_id", "key_set_url", "authorize_url"}
    with pytest.raises(SystemExit, match="set custom.lti"):  # the committed placeholders let nobody in
        _lti_config(values, values["custom"]["lti"])
    c = _lti_config(values, LTI_BLOCK)
    assert c.LTI13Authenticator.client_id == {"tool-7"} and c.LTI13Authenticator.username_key == "custom_username"
    assert c.LTI13Authenticator.jwks_endpoint == LTI_BLOCK["key_set_url"]
    assert c.JupyterHub.cookie_options == {"SameSite": "None", "Secure": True}


def test_the_cluster_maps_platform_roles_as_the_single_machine_hub_does(values):
    from medai_edu_ops.hub import lti
    from tornado import web

    hook = _lti_config(values, LTI_BLOCK).Authenticator.post_auth_hook
    cases = [
        [lti.INSTRUCTOR],
        [lti.INSTRUCTOR + "#TeachingAssistant"],
        [lti.LEARNER, "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"],
        [lti.LEARNER + "#Instructor"],
        [lti.MEMBERSHIP + "Mentor"],
        [],
    ]
    for roles in cases:
        claims = {lti.ROLES: roles, lti.DEPLOYMENT: "3"}
        try:
            expected = lti.role_of(claims)
        except lti.LaunchRefused:
            expected = None
        if expected is None:
            with pytest.raises(web.HTTPError) as refused:
                hook(None, None, {"name": "x", "admin": None, "auth_state": claims})
            assert refused.value.status_code == 403
        else:
            model = hook(None, None, {"name": "x", "admin": None, "auth_state": claims})
            assert model["admin"] is (expected == "instructor"), roles
    with pytest.raises(web.HTTPError, match="another deployment"):
        hook(None, None, {"name": "x", "admin": None, "auth_state": {lti.ROLES: [lti.LEARNER], lti.DEPLOYMENT: "9"}})
