# One image for every Harbor process (web, worker, beat); docker-compose.yml picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HARBOR_VAR_DIR=/var/harbor
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --system --home /app harbor && mkdir -p /var/harbor && chown harbor /var/harbor
USER harbor
EXPOSE 8000
CMD ["gunicorn", "harbor.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4"]
