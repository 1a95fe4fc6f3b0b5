"""Workers: the video pipeline (plain functions, no Flask or Celery) and its Celery adapter."""
