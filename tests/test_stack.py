"""The native production stack end to end: PostgreSQL, a moto S3/SQS server, a Prefect server
with outtask's deployments, two process workers, the SQS listener (and the portal when this
checkout has one), started by ``infra/stack up`` and stopped by ``infra/stack down``.

One stack for the module (starting it costs half a minute): two recordings of one engagement
are transcribed by two different worker processes at the same time and the last one starts
the brief; the same happens for another engagement while the moto server and PostgreSQL are
stopped and started again under it; after ``down`` no process of the stack is left."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_service

pytestmark = pytest.mark.slow

STACK = ROOT / "infra" / "stack"


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _port_base() -> int:
    """Four free ports in a row (Prefect, moto, PostgreSQL, portal): never the user's stack."""
    for _ in range(50):
        base = random.randrange(20000, 30000, 10)
        if all(_free(base + i) for i in range(4)):
            return base
    pytest.fail("no four free loopback ports in a row between 20000 and 30000")


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it (a worker runs each flow run in a child process)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo += children.get(tree[-1], [])
    return tree


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")  # a zombie has exited; its parent (init) reaps it later


@dataclass
class Stack:
    state: Path
    env: dict[str, str]  # what `infra/stack` runs with
    client: dict[str, str]  # stack.env: what a client of the stack needs
    sessions: object = None

    def run(self, command: str, *args: str, timeout: float = 400
            ) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(STACK), command, "--state", str(self.state),
                               *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def logs(self) -> str:
        parts = [f"(all of it in {self.state}/logs)"]
        for log in sorted((self.state / "logs").glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-25:]
            parts.append(f"---- {log.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def s3(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.client["AWS_ENDPOINT_URL"],
                            region_name="us-east-1", aws_access_key_id="testing",
                            aws_secret_access_key="testing")

    def db(self):
        from flows import db

        if self.sessions is None:
            self.sessions = db.session_factory(self.client["OUTTASK_DATABASE_URL"])
        return self.sessions

    def close_db(self) -> None:
        if self.sessions is not None:
            self.sessions.kw["bind"].dispose()  # our connections must not hold PostgreSQL up
            self.sessions = None

    def drop(self, engagement: str, recordings: dict[str, Path]) -> None:
        s3 = self.s3()
        s3.put_object(Bucket="outtask", Key=f"inbox/{engagement}/engagement.yaml",
                      Body=f"expected_interviews: {len(recordings)}\n".encode())
        for name, path in recordings.items():
            s3.upload_file(str(path), "outtask", f"inbox/{engagement}/{name}")

    def interviews(self, engagement: str) -> dict[str, str]:
        from flows import db

        client, slug = engagement.split("/")
        with self.db()() as s:
            q = (s.query(db.Interview).join(db.Engagement).join(db.Client)
                 .filter(db.Client.slug == client, db.Engagement.slug == slug))
            return {iv.file: iv.state for iv in q}

    def wait_for_brief(self, engagement: str, files: set[str], timeout: float = 300) -> None:
        from flows import db

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.interviews(engagement)
            with self.db()() as s:
                briefs = (s.query(db.Brief).join(db.Engagement)
                          .filter(db.Engagement.slug == engagement.split("/")[1]).count())
            if briefs and got == dict.fromkeys(files, "transcribed"):
                return
            time.sleep(1)
        pytest.fail(f"{engagement} not done after {timeout:.0f} s: {got}, {briefs} brief(s)"
                    f"\n{self.logs()}")

    def worker_logs(self) -> dict[Path, int]:
        """Each worker's log and how long it is now: where to look for what comes next."""
        return {log: log.stat().st_size for log in (self.state / "logs").glob("worker-*.log")}

    def wait_for_worker_log(self, pattern: str, since: dict[Path, int],
                            timeout: float) -> str:
        """The first match of ``pattern`` (a regular expression; ``.`` matches newlines too)
        in what a worker logged after ``since``, as soon as there is one."""
        deadline = time.monotonic() + timeout
        while True:
            for log, offset in since.items():
                with log.open("rb") as f:
                    f.seek(offset)
                    found = re.search(pattern, f.read().decode(errors="replace"), re.DOTALL)
                if found:
                    return found.group(0)
            if time.monotonic() > deadline:
                pytest.fail(f"no worker logged {pattern!r} within {timeout:.0f} s"
                            f"\n{self.logs()}")
            time.sleep(0.5)

    @contextlib.contextmanager
    def workers_frozen(self):
        """The workers and their flow runs stopped (SIGSTOP) where they are, then resumed."""
        services = json.loads((self.state / "stack.json").read_text())["services"]
        pids = [p for name, svc in services.items() if name.startswith("worker-")
                for p in _tree(svc["pid"])]
        try:
            for pid in pids:  # parents first: a worker stopped starts no flow run meanwhile
                with contextlib.suppress(ProcessLookupError):  # a flow run that just ended
                    os.kill(pid, signal.SIGSTOP)
            yield
        finally:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def claims(self, engagement: str) -> list:
        from flows import db

        with self.db()() as s:
            return [e for e in s.query(db.Event).filter_by(kind="worker-claim")
                    .join(db.Engagement, db.Event.engagement_id == db.Engagement.id)
                    .filter(db.Engagement.slug == engagement.split("/")[1])]


@pytest.fixture(scope="module")
def stack(request, model_cache):
    if shutil.which("pg_ctl") is None and not list(Path("/usr/lib/postgresql").glob(
            "*/bin/pg_ctl")):
        require_service("PostgreSQL", "pg_ctl is not installed (scripts/setup --test)")
    try:
        import moto.server  # noqa: F401
    except ImportError as e:
        require_service("moto server", f"moto[server] is not installed ({e})")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "AWS_", "OUTTASK_"))}
    env.update(OUTTASK_MODEL="tiny.en", OUTTASK_MODEL_CACHE=str(model_cache))
    # PostgreSQL runs as the postgres user when we are root: it must be able to enter the
    # state folder, which a 0700 pytest temporary folder does not allow
    state = Path(tempfile.mkdtemp(prefix="outtask-stack-", dir="/tmp"))
    state.chmod(0o755)
    st = Stack(state, env, {})
    started = time.monotonic()
    up = st.run("up", "--workers", "2", "--port-base", str(_port_base()))
    try:
        assert up.returncode == 0, f"{up.stdout}\n{up.stderr}\n{st.logs()}"
        print(f"stack up in {time.monotonic() - started:.0f} s")
        st.client = dict(line.removeprefix("export ").split("=", 1)
                         for line in (state / "stack.env").read_text().splitlines()
                         if line.startswith("export "))
        yield st
    finally:
        st.close_db()
        st.run("down", timeout=120)  # a no-op when test_down_leaves_nothing_running ran
    if request.session.testsfailed:
        print(f"stack logs and data kept in {state}")
    else:
        shutil.rmtree(state, ignore_errors=True)


def test_two_workers_transcribe_one_engagement_in_parallel(stack, audio_dir):
    # the two shortest shared recordings with different speakers (MANIFEST.md): LibriSpeech
    # speaker 1089, 2 s, and John F. Kennedy, 11 s
    recordings = {"exec-1.flac": audio_dir / "librispeech" / "1089-134691-0000.flac",
                  "exec-2.flac": audio_dir / "jfk.flac"}
    dropped = time.monotonic()
    stack.drop("acme/scale-out", recordings)
    stack.wait_for_brief("acme/scale-out", set(recordings))
    print(f"two recordings to a brief in {time.monotonic() - dropped:.0f} s")

    from flows import db

    claims = stack.claims("acme/scale-out")
    by_interview = {e.interview_id: e for e in claims}
    with stack.db()() as s:
        finished = {e.interview_id: e.at for e in s.query(db.Event).filter_by(kind="state")
                    .filter(db.Event.interview_id.in_(list(by_interview)))
                    if e.detail["to"] == "transcribed"}
        brief = (s.query(db.Brief).join(db.Engagement)
                 .filter(db.Engagement.slug == "scale-out").one())
    # each interview claimed once, each by another worker process
    assert len(claims) == len(by_interview) == 2, [e.detail for e in claims]
    assert {e.detail["worker"] for e in claims} == {"stack-worker-1", "stack-worker-2"}
    assert len({e.detail["owner"] for e in claims}) == 2
    # ... at the same time: each was claimed before the other one was finished
    a, b = sorted(by_interview)
    assert by_interview[a].at < finished[b] and by_interview[b].at < finished[a]
    s3 = stack.s3()
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="outtask", Prefix="processed/")[
        "Contents"]}
    assert {f"processed/acme/scale-out/exec-{i}.txt" for i in (1, 2)} <= keys
    s3.head_object(Bucket="outtask", Key=brief.zip_key)


def test_a_run_completes_when_storage_and_database_come_back(stack, audio_dir):
    from flows import db

    # other recordings than above: the same audio would reuse its transcript at once
    recordings = {"exec-1.flac": audio_dir / "librispeech" / "1089-134686-0001.flac",
                  "exec-2.flac": audio_dir / "librispeech" / "1089-134691-0001.flac"}
    since = stack.worker_logs()
    stack.drop("acme/outage", recordings)
    deadline = time.monotonic() + 120
    while "transcribing" not in stack.interviews("acme/outage").values():
        assert time.monotonic() < deadline, f"nothing started\n{stack.logs()}"
        time.sleep(0.05)
    # A short recording is done a few seconds after its claim, about as long as stopping the
    # services takes (a run once saw it done first and nothing retried). Stopped where they
    # are, the workers cannot finish before storage and database are gone.
    with stack.workers_frozen():
        with stack.db()() as s:
            under_way = [iv.id for iv in s.query(db.Interview).join(db.Engagement)
                         .filter(db.Engagement.slug == "outage",
                                 db.Interview.state == "transcribing")]
        stack.close_db()
        stopped = stack.run("down", "--only", "moto,postgres", timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    assert under_way, "the claimed interview was done before the workers were stopped"
    # the services stay away until the run under way has felt it: its worker says it is
    # waiting for them (dispatch.retrying); a Prefect API call may wait a minute first
    down_at = time.monotonic()
    felt = stack.wait_for_worker_log(
        rf"interview (?:{'|'.join(map(str, under_way))}): .*?; trying again", since, timeout=300)
    print(f"felt {time.monotonic() - down_at:.0f} s into the outage: {felt[:160]!r}")
    restarted = stack.run("up")
    assert restarted.returncode == 0, f"{restarted.stderr}\n{stack.logs()}"

    stack.wait_for_brief("acme/outage", set(recordings))
    claims = stack.claims("acme/outage")
    # the runs that were under way went on where they were: no interview was claimed twice
    assert sorted(e.interview_id for e in claims) == sorted({e.interview_id for e in claims})
    # the bucket came back with what was in it: the recordings and their transcripts
    s3 = stack.s3()
    for name in recordings:
        s3.head_object(Bucket="outtask", Key=f"inbox/acme/outage/{name}")
        s3.head_object(Bucket="outtask", Key=f"processed/acme/outage/{Path(name).stem}.json")


def test_down_leaves_nothing_running(stack):
    stack.close_db()
    listed = stack.run("status", "--json", timeout=60)
    services = json.loads(listed.stdout)["services"]
    assert {svc["name"] for svc in services} >= {"postgres", "moto", "prefect", "worker-1",
                                                  "worker-2", "listener"}
    assert all(svc["healthy"] for svc in services), services
    pids = [pid for svc in services for pid in svc["pids"]]
    down = stack.run("down", timeout=120)
    assert down.returncode == 0, down.stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(map(_gone, pids)):
        time.sleep(0.2)
    assert [p for p in pids if not _gone(p)] == []
    assert all(_free(port) for port in json.loads(listed.stdout)["ports"].values())
    assert not (stack.state / "stack.env").exists()
