"""The worker service: the Celery app and its tasks (thin adapters around :mod:`pipeline`), job
recovery, housekeeping, the embedded file-system queue, and the host's GPUs and memory."""
