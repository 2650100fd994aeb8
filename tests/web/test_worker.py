"""The real job queue: a task enqueued by one process is run by `ceiba worker` in another."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CEIBA_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return {**env, "CEIBA_VAR_DIR": str(var_dir)}


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("queue", ["sqlite", "redis"])
def test_worker_runs_a_queued_task_from_another_process(tmp_path: Path, queue: str) -> None:
    env = _env(tmp_path)
    if queue == "redis":
        if not _redis_reachable():
            pytest.skip("no Redis on 127.0.0.1:6379 (.ci/run starts one)")
        import redis

        # A database of its own, emptied first, so runs never see each other's jobs.
        redis.Redis(host="127.0.0.1", port=6379, db=13).flushdb()
        env["CEIBA_REDIS_URL"] = "redis://127.0.0.1:6379/13"
    enqueue = (
        "from ceiba.accounts.tasks import send_account_email; "
        "send_account_email('Queued hello', 'body', ['someone@example.org'])"
    )
    # given: a task in the SQLite queue under var/, and no worker yet
    subprocess.run(
        [sys.executable, "-m", "ceiba.cli", "shell", "-c", enqueue], env=env, check=True, timeout=60
    )
    assert not (tmp_path / "mail").exists()
    # when: a worker runs
    worker = subprocess.Popen(
        [sys.executable, "-m", "ceiba.cli", "worker", "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not list((tmp_path / "mail").glob("*.log")):
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    # then: the mail was sent by the worker (file backend under var/mail)
    sent = list((tmp_path / "mail").glob("*.log"))
    assert len(sent) == 1
    assert "Queued hello" in sent[0].read_text()
