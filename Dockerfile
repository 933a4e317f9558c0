# The browser SDKs the API serves (api/routes/sdk.py), from npm, pinned by sdk/package-lock.json.
FROM node:20-slim AS sdk
WORKDIR /app
COPY sdk/package.json sdk/package-lock.json sdk/
RUN npm ci --prefix sdk --no-audit --no-fund

# The console (console/), built into console/dist, served by the API at /console.
FROM node:20-slim AS console
WORKDIR /app/console
COPY console/package.json console/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY console/ ./
RUN npm run build

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
COPY --from=sdk /app/sdk/node_modules sdk/node_modules
COPY --from=console /app/console/dist console/dist
RUN pip install . && useradd --create-home journeys \
    && mkdir -p /var/lib/journeys && chown journeys /var/lib/journeys
USER journeys
EXPOSE 8000 9464
CMD ["journeys", "api"]
