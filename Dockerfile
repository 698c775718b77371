# One image for every Harbor process (web, workers, beat, the one-shot setup commands);
# docker-compose.yml picks the command. Nothing secret is baked in: the environment is
# given at run time (ENVIRONMENT=prod and the variables harbor/prod.py requires).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HARBOR_VAR_DIR=/var/harbor
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files are part of the image (WhiteNoise serves them from /var/harbor/static), collected
# with ENVIRONMENT unset: the settings only need some DATABASE_URL to load, nothing connects.
RUN DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic --noinput --verbosity 0
# A fixed uid, so the media volume (shipping labels, written by the fulfillment worker and read
# by web) has one owner whichever container created it. /var/harbor/media exists in the image
# owned by that user: a new named volume mounted there starts with that ownership.
RUN useradd --system --uid 10001 --home-dir /app --no-create-home harbor \
    && mkdir -p /var/harbor/media /var/harbor/mail && chown harbor /var/harbor/media /var/harbor/mail
VOLUME ["/var/harbor/media"]
USER harbor
EXPOSE 8000
CMD ["gunicorn", "harbor.wsgi", "-c", "harbor/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4"]
