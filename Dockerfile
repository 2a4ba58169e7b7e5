# One image for both processes; the command chooses: `python -m app serve` (web, the
# default) or `python -m worker`. Settings come only from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENVIRONMENT=production

RUN groupadd --system --gid 10001 scheduler && useradd --system --uid 10001 --gid scheduler --no-create-home scheduler

WORKDIR /srv/scheduler

COPY pyproject.toml README.md ./
COPY app ./app
COPY cdn ./cdn
COPY worker ./worker
COPY templates ./templates
COPY static ./static
RUN pip install --no-cache-dir .

USER 10001:10001
EXPOSE 5000
CMD ["python", "-m", "app", "serve"]
