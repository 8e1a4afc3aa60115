# Production image: gunicorn web, Celery worker and beat all run from it (see docker-compose.yml).
FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_BUILD_CONSTRAINT=/app/constraints/build.txt VAR_DIR=/app/var
WORKDIR /app
RUN useradd --system --create-home --uid 1000 app
COPY pyproject.toml ./
COPY constraints ./constraints
RUN pip install --no-cache-dir --upgrade "pip>=25.3" && pip install --no-cache-dir .
COPY . .
RUN DEBUG=false SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "cro_cmo.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
