"""The pipeline: inputs in, an output folder out. Plain functions, no Flask, no Celery, no job store.

One entry point per kind of input, each writing one output folder:

- :func:`pipeline.video.process_video`: one video (two passes: :mod:`pipeline.analyse`, then
  :mod:`pipeline.render`, with tracks, exports and the people's answers between them);
- :func:`pipeline.images.process_images`: a set of photos;
- :func:`pipeline.multiview.process_views`: several synchronised views and a calibration, each view
  through the video pipeline, then :mod:`multiview`'s fusion into people in 3D.

A CLI, a test or a Celery task (:mod:`workers`, the service around it) calls them with a progress
callback and a cancel check. ``tests/pipeline/test_pipeline_purity.py`` holds the layering.
"""
