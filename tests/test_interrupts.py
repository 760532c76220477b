"""Interrupts of a real run: Ctrl-C at every replication count and while the study is being
finished, a second Ctrl-C, SIGTERM, SIGKILL of the main process and a killed worker. Each
ends with the count of replications on disk and the resume command (or, for SIGKILL, with
no process left), and resuming gives the same tables as an uninterrupted run."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT

pytestmark = pytest.mark.slow

# a small region, so that a replication takes a fraction of a second
STUDY = [
    "compare",
    "scenarios/groningen_separate.yaml",
    "scenarios/groningen_central.yaml",
    "--weeks",
    "1",
    "--replications",
    "3",
    "--set",
    "region.population=80000",
    "--no-progress",
]
TABLES = ("kpis_by_replication.csv", "summary.csv", "comparison.csv")
TOTAL = 6


def _start(out: Path, workers: int = 2) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "run_sim.py", *STUDY, "--workers", str(workers), "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _partial(out: Path) -> Path | None:
    found = list(out.glob(".*.partial")) if out.exists() else []
    return found[0] if found else None


def _on_disk(out: Path) -> int:
    partial = _partial(out)
    if partial is None or not (partial / "replications").exists():
        return 0
    return sum(1 for p in (partial / "replications").iterdir() if p.suffix == ".json")


def _wait_for(condition, proc: subprocess.Popen[str], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    raise AssertionError("the condition never came true")


def _resume(partial: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "run_sim.py", "compare", "--resume", str(partial), "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("reference")
    proc = _start(out)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    return {name: (folder / name).read_text() for name in TABLES}


def _message_count(err: str, partial: Path) -> int:
    match = re.search(r"(\d+) of (\d+) replications finished and are kept in (\S+);", err)
    assert match, err
    assert Path(match[3]) == partial
    assert f"python run_sim.py compare --resume {partial}" in err
    return int(match[1])


def _resumes_to_reference(partial: Path, out: Path, reference: dict[str, str]) -> None:
    resumed = _resume(partial)
    assert resumed.returncode == 0, resumed.stderr
    (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    for name in TABLES:
        assert (folder / name).read_text() == reference[name], name


def _holds_lock(out: Path, proc: subprocess.Popen[str]) -> bool:
    """Whether ``proc`` has taken its folder's lock (it is working on the study)."""
    partial = _partial(out)
    try:
        return partial is not None and (partial / "running.pid").read_text() == str(proc.pid)
    except OSError:
        return False


def test_ctrl_c_at_every_count_and_while_finishing_then_resume_is_identical(
    tmp_path: Path, reference: dict[str, str]
) -> None:
    """One study interrupted at every replication count in turn (the first run at 0
    finished, each resumed run at the next count) and at last while its tables and report
    are written. Each time the message gives the count on disk and the resume command; the
    final resume gives the same tables as an uninterrupted run."""
    out = tmp_path / "out"
    proc = _start(out)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    interrupted = []
    for count in [*range(TOTAL), "finishing"]:
        if interrupted:
            partial = _partial(out)
            proc = subprocess.Popen(
                [sys.executable, "run_sim.py", "compare", "--resume", str(partial)]
                + ["--no-progress", "--workers", "2"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        if count == "finishing":
            reached = _wait_for(lambda: (p := _partial(out)) and (p / "summary.csv").exists(), proc)
        else:
            reached = _wait_for(
                lambda proc=proc, count=count: _holds_lock(out, proc) and _on_disk(out) >= count,
                proc,
            )
        if not reached:
            break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        if proc.returncode == 0:
            break
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        partial = _partial(out)
        assert partial is not None
        kept = _on_disk(out)
        assert _message_count(err, partial) == kept
        assert kept == TOTAL if count == "finishing" else kept >= count
        interrupted.append(count)
    assert len(interrupted) >= 4, interrupted  # most points were reached before the end
    partial = _partial(out)
    if partial is not None:
        _resumes_to_reference(partial, out, reference)
    else:  # the last resumed run finished on its own
        (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
        for name in TABLES:
            assert (folder / name).read_text() == reference[name], name


def test_a_second_ctrl_c_exits_at_once(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start(out)
    if not _wait_for(lambda: _on_disk(out) >= 1, proc):
        pytest.skip("the run ended before the interrupt")
    proc.send_signal(signal.SIGINT)
    first = time.monotonic()
    time.sleep(0.05)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert time.monotonic() - first < 5
    # 130 from the study's message or from the at-once handler; -SIGINT when the second
    # Ctrl-C arrives while Python is shutting down (it has restored the default action)
    assert proc.returncode in (130, -signal.SIGINT)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (ended, not yet reaped by its new parent) counts as gone
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux's PDEATHSIG")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_no_worker_outlives_the_main_process(sig: int, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start(out)
    if not _wait_for(lambda: len(_children(proc.pid)) >= 2 and _on_disk(out) >= 1, proc):
        pytest.skip("the run ended before the signal")
    workers = _children(proc.pid)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    deadline = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers)
    if sig == signal.SIGTERM:
        assert proc.returncode == 143, err
        partial = _partial(out)
        assert partial is not None and _message_count(err, partial) == _on_disk(out)
    else:  # nothing can run after SIGKILL, but the folder is resumable: its lock died too
        partial = _partial(out)
        assert partial is not None
        resumed = _resume(partial)
        assert resumed.returncode == 0, resumed.stderr


def test_a_killed_worker_gives_the_resume_message(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start(out)
    if not _wait_for(lambda: len(_children(proc.pid)) >= 2 and _on_disk(out) >= 1, proc):
        pytest.skip("the run ended before the signal")
    os.kill(_children(proc.pid)[0], signal.SIGKILL)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"the run did not end after its worker was killed: {err}") from None
    if proc.returncode == 0:
        pytest.skip("the run finished before the worker was killed")
    assert proc.returncode == 1, err
    assert "a worker process ended unexpectedly" in err and "Traceback" not in err
    partial = _partial(out)
    assert partial is not None and _message_count(err, partial) == _on_disk(out)


# ----------------------------------------------------------------------- a full disk

FULL_DISK = """\
set -u
mount -t tmpfs -o size=16m tmpfs {mnt} || exit 97
# leave {free_kb} KB free
dd if=/dev/zero of={mnt}/filler bs=1024 count=$((16384 - {free_kb})) 2>/dev/null
mkdir {mnt}/out
cd {root}
{python} run_sim.py {study} --save-requests --workers 2 --out {mnt}/out 2> {host}/err1.txt
echo $? > {host}/rc1
ls -A {mnt}/out > {host}/left.txt 2>/dev/null
rm {mnt}/filler
partial=$(ls -d {mnt}/out/.*.partial 2>/dev/null | head -1)
if [ -n "$partial" ]; then
  {python} run_sim.py compare --resume "$partial" --no-progress 2> {host}/err2.txt
  echo $? > {host}/rc2
  cp {mnt}/out/2*/*.csv {host}/
fi
"""


def _unshare_available() -> bool:
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.parametrize("free_kb", [64, 300, 2048])
def test_a_full_disk_stops_with_a_message_and_the_folder_resumes(
    free_kb: int, tmp_path: Path, reference: dict[str, str]
) -> None:
    if not _unshare_available():
        pytest.skip("needs 'unshare -rm' (a private mount namespace) to mount a small disk")
    mnt, host = tmp_path / "mnt", tmp_path / "host"
    mnt.mkdir()
    host.mkdir()
    script = FULL_DISK.format(
        free_kb=free_kb,
        mnt=mnt,
        root=ROOT,
        host=host,
        python=sys.executable,
        study=" ".join(shlex.quote(a) for a in STUDY),
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], env=env, timeout=300)
    if done.returncode == 97:
        pytest.skip("cannot mount a small tmpfs here")
    err = (host / "err1.txt").read_text()
    assert (host / "rc1").read_text().strip() == "2", err
    assert "Traceback" not in err and "No space left on device" in err, err
    if not (host / "rc2").exists():  # nothing could be kept: the message says so
        assert "nothing was kept" in err and (host / "left.txt").read_text().strip() == "", err
        return
    assert re.search(r"(\d+) of (\d+) replications finished and are kept in", err), err
    assert (host / "rc2").read_text().strip() == "0", (host / "err2.txt").read_text()
    for name in TABLES:
        assert (host / name).read_text() == reference[name], name


def test_a_stopped_pool_waits_for_its_manager_thread_and_names_one_that_hangs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``stop_pool`` must wait for the pool's manager thread, which shutdown forgets: a
    manager stuck on a full queue to a terminated worker would keep Python's exit waiting
    for ever, so one that does not end in time is recorded and the command exits without
    it."""
    import threading

    from sim.experiments import executors

    class FakePool:  # what stop_pool uses of a ProcessPoolExecutor (3.11's shutdown)
        def __init__(self, seconds: float):
            self._processes: dict = {}
            self._executor_manager_thread = threading.Thread(target=time.sleep, args=(seconds,))
            self._executor_manager_thread.start()

        def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
            self._executor_manager_thread = None  # as the standard library does

    monkeypatch.setattr(executors, "_STUCK_THREADS", [])
    monkeypatch.setattr(executors, "MANAGER_JOIN_S", 5)
    quick = FakePool(0.3)
    manager = quick._executor_manager_thread
    executors.stop_pool(quick)  # type: ignore[arg-type]
    assert not manager.is_alive() and not executors.pool_left_stuck()
    monkeypatch.setattr(executors, "MANAGER_JOIN_S", 0.1)
    stuck = FakePool(3.0)
    executors.stop_pool(stuck)  # type: ignore[arg-type]
    assert executors.pool_left_stuck()
