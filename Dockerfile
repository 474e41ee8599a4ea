# The engine CLI in a container: `engine` is on PATH and is the entrypoint.
#
#   docker build -t engine .                    # CPU image (mcr.microsoft.com/dotnet/runtime:10.0)
#   docker build --target cuda -t engine:cuda . # CUDA image: nvidia/cuda base with the .NET runtime added
#   docker run --rm -v "$PWD/study:/study" engine study run /study/tiny
#
# The CUDA image needs nothing but the NVIDIA driver on the host: ILGPU compiles its own PTX and talks to
# the driver's libcuda, which the NVIDIA container toolkit mounts into the container (the nvidia/cuda base
# sets NVIDIA_DRIVER_CAPABILITIES=compute,utility for that). No CUDA toolkit is needed in the image.

# ---- build: publish the CLI (framework-dependent) into /app
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files only, so a source change does not refetch packages.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/Engine.Kernels/Engine.Kernels.csproj src/Engine.Kernels/
COPY src/Engine.Managed/Engine.Managed.csproj src/Engine.Managed/
COPY src/Engine.Cli/Engine.Cli.csproj src/Engine.Cli/
RUN dotnet restore src/Engine.Cli
COPY . .
RUN dotnet publish src/Engine.Cli -c Release --no-restore -o /app

# ---- cuda: the same /app on an nvidia/cuda base, with the .NET runtime copied from Microsoft's image
FROM mcr.microsoft.com/dotnet/runtime:10.0 AS dotnet-runtime
FROM nvidia/cuda:12.6.3-base-ubuntu24.04 AS cuda
COPY --from=dotnet-runtime /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
ENV DOTNET_ROOT=/usr/share/dotnet \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    PATH="/app:${PATH}"
COPY --from=build /app /app
WORKDIR /study
ENTRYPOINT ["/app/engine"]

# ---- runtime (the default target): CPU backend
FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    PATH="/app:${PATH}"
COPY --from=build /app /app
WORKDIR /study
ENTRYPOINT ["/app/engine"]
