# Production image: gunicorn web, Celery worker and beat all run from it (see docker-compose.yml).
FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 VAR_DIR=/app/var
WORKDIR /app
RUN useradd --system --create-home --uid 1000 app
# Dependencies first, from pyproject.toml alone, so code changes do not reinstall them.
# Every dependency ships a wheel: the image's stock pip installs them as they are.
COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
# The media directory exists, owned by the app user, before compose mounts the `media` volume
# there: a new named volume copies this ownership, so uploads are writable by the app.
RUN DEBUG=false SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "cro_cmo.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
