# Multitudes: one process runs the engine, the scheduler and whichever chat front ends have tokens.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MULTITUDES_STORAGE__PATH=/data/multitudes.db \
    MULTITUDES_LOGGING__FILE=/data/multitudes.log \
    MULTITUDES_LOGGING__PROMPT_LOG=/data/prompts.log

WORKDIR /app
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY bot ./bot
RUN pip install --no-cache-dir . && useradd --create-home multitudes && mkdir /data && chown multitudes /data

USER multitudes
VOLUME ["/data"]
WORKDIR /data
# Secrets come from the environment (MULTITUDES_TRAKT_CLIENT_ID, MULTITUDES_SECRET_KEY, …); see config.example.toml.
ENTRYPOINT ["multitudes"]
CMD ["run"]
