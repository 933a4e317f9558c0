FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY engine engine
COPY api api
COPY workflows workflows
COPY activities activities
COPY runtime runtime
COPY migrations migrations
RUN pip install . && useradd --create-home journeys
USER journeys
EXPOSE 8000 9464
CMD ["journeys", "api"]
