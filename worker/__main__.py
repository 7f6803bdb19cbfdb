"""Runs one Celery worker: `python -m worker` (concurrency: DEPICTIO_WORKER_CONCURRENCY).

It logs JSON lines to stderr and, once it consumes tasks, sets the Redis key
`depictio:worker:ready:<pid>` (the supervisor's health probe), removed when it stops.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from typing import Any

import redis
from celery.signals import worker_ready, worker_shutdown

from depictio.cli.probes import WORKER_READY_KEY
from depictio.config import get_settings
from depictio.logs import configure_logging
from depictio.tasks.celery_app import QUEUE, celery_app

log = logging.getLogger("worker")
READY_KEY_TTL_SECONDS = 7 * 24 * 3600


def _ready_key() -> str:
    return WORKER_READY_KEY.format(pid=os.getpid())


def _redis() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url, socket_timeout=5)


@worker_ready.connect
def announce_ready(**_: Any) -> None:
    _redis().set(_ready_key(), socket.gethostname(), ex=READY_KEY_TTL_SECONDS)
    log.info("worker ready", extra={"pid": os.getpid()})


@worker_shutdown.connect
def withdraw_ready(**_: Any) -> None:
    try:
        _redis().delete(_ready_key())
    except redis.RedisError:
        log.warning("could not remove the worker's ready key", extra={"pid": os.getpid()})


def main() -> None:
    settings = get_settings()
    configure_logging("worker", settings.log_level)
    if not settings.redis_url:
        sys.stderr.write(
            "worker: DEPICTIO_REDIS_URL is not set; the worker needs Redis (its broker)\n"
        )
        raise SystemExit(2)
    celery_app.worker_main(
        [
            "worker",
            f"--loglevel={settings.log_level.upper()}",
            f"--concurrency={settings.worker_concurrency}",
            "--pool=prefork",
            f"--queues={QUEUE}",
            f"--hostname=depictio-{os.getpid()}@{socket.gethostname()}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


if __name__ == "__main__":
    main()
