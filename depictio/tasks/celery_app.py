"""The Celery application every process shares: broker and result backend on Redis."""

from __future__ import annotations

from celery import Celery

from depictio.config import Settings, get_settings

TASK_MODULES = ["worker.tasks.maintenance", "worker.tasks.ingest", "worker.tasks.thumbnails"]
# With DEPICTIO_CELERY_ENABLED the worker also runs the UI's Dash background callbacks.
UI_CALLBACKS_MODULE = "worker.ui_callbacks"
QUEUE = "depictio"


def make_celery_app(settings: Settings) -> Celery:
    """A Celery app configured from `settings` (broker and backend: settings.redis_url).

    Tasks are acknowledged after they finish (`acks_late`) and given back to the queue when
    their process dies (`reject_on_worker_lost`): a task whose worker is killed runs again on
    another. A worker takes one task at a time per process, so a long task never holds
    others back. An unacknowledged task is redelivered after `task_redelivery_seconds`,
    which exceeds the hard time limit so that no task still running is started twice.
    """
    modules = [*TASK_MODULES, *([UI_CALLBACKS_MODULE] if settings.celery_enabled else [])]
    app = Celery("depictio", include=modules)
    redis_url = settings.redis_url or None
    app.conf.update(
        broker_url=redis_url,
        result_backend=redis_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.task_redelivery_seconds,
            # Sweep for abandoned tasks every 5 s (not every 100 s) once the timeout passed.
            "unacked_restore_interval": 5,
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 5,
            "socket_timeout": 30,
        },
        result_backend_transport_options={"socket_connect_timeout": 5, "socket_timeout": 30},
        task_default_queue=QUEUE,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        result_expires=settings.task_result_ttl_seconds,
        task_time_limit=settings.task_time_limit_seconds,
        task_soft_time_limit=settings.task_soft_time_limit_seconds,
        task_track_started=True,
        # Publishing waits a few seconds at most for an unreachable broker.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        timezone="UTC",
    )
    return app


celery_app = make_celery_app(get_settings())
