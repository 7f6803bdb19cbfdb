"""The task modules the worker loads (see depictio.tasks.celery_app.TASK_MODULES)."""
