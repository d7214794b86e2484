# rmbot, the service image: `docker build -t rmbot .`; running it: docs/operations.md, "Containers".
#
# .ci/container-check lints this file with hadolint and repeats its build and run steps without a
# container engine; each step there names the line here it mirrors. Change both together.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: a wheel of the project, then a virtual environment with it and its runtime dependencies ---------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY adapters/ adapters/
COPY bot/ bot/
COPY prompts/ prompts/
COPY storage/ storage/
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .
# Runtime dependencies only: not the `dev` extra.
RUN python -m venv /opt/rmbot \
 && /opt/rmbot/bin/python -m pip install --no-cache-dir /wheels/rmbot-*.whl

# -- runtime: the virtual environment on a clean base, run as an unprivileged user ----------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/rmbot/bin:$PATH \
    DATABASE_URL=sqlite:////var/lib/rmbot/rmbot.db \
    RMBOT_HOST=0.0.0.0 \
    RMBOT_PORT=3000 \
    RMBOT_FILES_DIR=/var/lib/rmbot/files
RUN groupadd --system --gid 10001 rmbot \
 && useradd --system --no-log-init --uid 10001 --gid rmbot --home-dir /var/lib/rmbot --create-home \
    --shell /usr/sbin/nologin rmbot
COPY --from=build /opt/rmbot /opt/rmbot
WORKDIR /var/lib/rmbot
USER 10001:10001
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('RMBOT_PORT', '3000') + '/healthz', timeout=4)"]
ENTRYPOINT ["rmbot"]
CMD ["serve"]
