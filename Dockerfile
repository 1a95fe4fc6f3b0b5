# Pose Studio: one image for the web app and the workers (docker-compose.yml runs both).
# Build:  docker build -t posestudio .
# The model is fetched (and its sha256 verified) at build time, so containers start offline.

# BlazePose's lite and heavy landmark models come from the npm package that ships them, fetched
# by npm itself (exact version); the Python stage checks each file's sha256 before installing it.
FROM node:20-slim AS blazepose-models
RUN mkdir /npm && cd /npm && npm pack --silent @mediapipe/pose@0.5.1675469404

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    POSESTUDIO_INSTANCE_DIR=/data/instance \
    POSESTUDIO_UPLOADS_DIR=/data/uploads \
    POSESTUDIO_OUTPUTS_DIR=/data/outputs

WORKDIR /app
# Dependencies first (cached while only the code changes): exactly the pinned, hash-checked
# tree of requirements.txt, then the code as an editable install without dependencies, so
# config.ROOT is /app (templates, static, models/ beside the code). The blazepose model's
# mediapipe comes from its own file, installed without its declared dependencies (see
# requirements-blazepose.in: they are unused by the pose graph or clash with ours).
COPY requirements.txt requirements-blazepose.txt ./
RUN pip install --require-hashes -r requirements.txt \
    && pip install --require-hashes --no-deps -r requirements-blazepose.txt
COPY . .
COPY --from=blazepose-models /npm/mediapipe-pose-0.5.1675469404.tgz /tmp/
RUN pip install --no-deps -e . \
    && posestudio fetch-model \
    && python tools/install_blazepose_models.py --tarball /tmp/mediapipe-pose-0.5.1675469404.tgz \
    && rm /tmp/mediapipe-pose-0.5.1675469404.tgz \
    && useradd --create-home --uid 10001 posestudio \
    && mkdir -p /data/instance /data/uploads /data/outputs \
    && chown -R posestudio /data

USER posestudio
VOLUME ["/data/instance", "/data/uploads", "/data/outputs"]
EXPOSE 5000

# The web app and one worker in one container (embedded queue unless REDIS_URL is set).
# docker-compose.yml instead runs gunicorn and `posestudio worker` as separate services on Redis.
CMD ["posestudio", "serve", "--host", "0.0.0.0"]
