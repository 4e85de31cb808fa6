# One image for every service of the hotline; docker-compose.yml picks the
# command. Rasa 3.6.21 needs Python 3.10.
FROM python:3.10-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    RASA_TELEMETRY_ENABLED=false

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN useradd --create-home --uid 10001 hotline && chown -R hotline /app
USER hotline
