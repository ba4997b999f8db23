#!/usr/bin/env bash
# Weft build bootstrapper (Linux/macOS): ./build.sh TARGET [options]   (./build.sh help lists them)
# Checks for the .NET SDK, builds the build program (tools/Build) into artifacts/tools/Build when its
# sources changed, and runs it. Starting the built dll takes ~0.1 s; 'dotnet run' would take ~2 s every time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

if ! command -v dotnet >/dev/null 2>&1; then
    cat >&2 <<'MSG'
error: the .NET SDK (dotnet) is not on PATH. Weft needs the .NET 10 SDK.
Install it, then run this script again:
  Debian/Ubuntu: apt-get install -y dotnet-sdk-10.0   (where your distribution ships it), or
  any Linux/macOS: curl -sSL https://dot.net/v1/dotnet-install.sh | bash -s -- --channel 10.0
                   and add ~/.dotnet to PATH
  macOS (Homebrew): brew install --cask dotnet-sdk
See https://dotnet.microsoft.com/download
MSG
    exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

tool_dir="artifacts/tools/Build"
tool="$tool_dir/Build.dll"
stale=0
if [[ ! -f "$tool" ]]; then
    stale=1
elif [[ -n "$(find tools/Build Directory.Build.props Directory.Packages.props \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -newer "$tool" -print -quit 2>/dev/null)" ]]; then
    stale=1
fi
if (( stale )); then
    sdk="$(dotnet --version 2>/dev/null || true)"
    if [[ ! "$sdk" =~ ^([0-9]+)\. ]] || (( BASH_REMATCH[1] < 10 )); then
        echo "error: Weft needs the .NET 10 SDK or newer; 'dotnet --version' says '${sdk:-nothing}'. See https://dotnet.microsoft.com/download" >&2
        exit 1
    fi
    echo "==> building the build program (tools/Build)"
    log="$(mktemp)"
    if ! dotnet build tools/Build/Build.csproj -c Release -o "$tool_dir" -nologo -v q -nodeReuse:false >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "error: could not build tools/Build (output above)" >&2
        exit 1
    fi
    rm -f "$log"
    touch "$tool"
fi

exec dotnet "$tool" "$@"
