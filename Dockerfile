# Multitudes: one process runs the engine, the scheduler and whichever chat front ends have tokens.
# Reproducible: the dependencies come from requirements.lock (exact versions and hashes), then the app itself.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MULTITUDES_STORAGE__PATH=/data/multitudes.db \
    MULTITUDES_LOGGING__FILE=/data/multitudes.log \
    MULTITUDES_LOGGING__PROMPT_LOG=/data/prompts.log

WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY engine ./engine
COPY bot ./bot
RUN pip install --no-cache-dir --no-deps . \
    && useradd --create-home --uid 10001 multitudes && mkdir /data && chown 10001 /data

USER 10001
VOLUME ["/data"]
WORKDIR /data
# Liveness: the bot's event loop writes /data/multitudes.alive every 15 s; a blocked or dead loop turns unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 CMD ["multitudes", "health"]
# Secrets come from the environment (MULTITUDES_TRAKT_CLIENT_ID, MULTITUDES_SECRET_KEY, …); see config.example.toml.
# Without a chat token and without a terminal, `run` exits 2 with a message instead of restarting in a loop.
ENTRYPOINT ["multitudes"]
CMD ["run"]
