"""Background tasks on Celery over Redis: the app, the task registry, submission, the tasks."""
