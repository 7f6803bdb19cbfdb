"""Background tasks as every process sees them: the shared Celery app, the task names, the
task records in Redis and submission for a user. The worker (worker/) runs the tasks; the
gateway and the UI queue and follow them through this package only."""
