# RnnService: one image, two entry points: the API (default) and the trainer (command line or the worker role:
# `--entrypoint dotnet rnnservice /app/trainer/RnnService.Trainer.dll worker`; see docker-compose.yml).
#   docker build -t rnnservice .
#   docker run -p 8080:8080 -e Security__ApiKey=change-me -v rnnservice-models:/app/models rnnservice
# Expected size: about 600 MB (ASP.NET Core runtime ~230 MB + LibTorch CPU ~370 MB after stripping).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# strip (binutils) shrinks libtorch_cpu.so by ~90 MB in deploy/publish.sh.
RUN apt-get update && apt-get install -y --no-install-recommends binutils && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The same script CI's smoke test runs (.ci/smoke-publish.sh), so CI starts what this image contains.
RUN bash deploy/publish.sh /out

FROM mcr.microsoft.com/dotnet/aspnet:10.0
COPY --from=build /out/ /app/
COPY deploy/healthcheck.sh /app/healthcheck.sh
COPY data/names /app/data/names
# Seeds the models volume with the shipped models (the current one served) on first use; the non-root user must be able to publish into it (and
# keep the SQLite job store there when no database is configured), so the folder itself is its own too.
RUN install -d -o app -g app /app/models
COPY --chown=app:app models/1 /app/models/1
COPY --chown=app:app models/2 /app/models/2
COPY --chown=app:app models/3 /app/models/3
COPY --chown=app:app models/4 /app/models/4
COPY --chown=app:app models/current /app/models/current
COPY --chown=app:app models/current.history /app/models/current.history

# Every setting is an environment variable (see README); these are the container's defaults.
ENV Urls=http://+:8080 \
    Serving__ModelsDirectory=/app/models \
    Serving__TorchThreads=1 \
    Training__DataDirectory=/app/data/names \
    Security__ApiKey= \
    RateLimiting__PredictionsPerWindow=1000 \
    Http__MaxRequestBodyBytes=262144

USER app
WORKDIR /app/api
EXPOSE 8080
VOLUME /app/models
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["bash", "/app/healthcheck.sh"]
# SIGTERM (docker stop) cancels a running training job between minibatches; nothing half-written is published.
ENTRYPOINT ["dotnet", "/app/api/RnnService.Api.dll"]
