"""The task modules the worker loads (see worker.celery_app.TASK_MODULES)."""
