#!/usr/bin/env pwsh
# Weft build bootstrapper (Windows, or anywhere PowerShell 7 runs): .\build.ps1 TARGET [options]
# Checks for the .NET SDK, builds the build program (tools/Build) into artifacts/tools/Build when its
# sources changed, and runs it. Starting the built dll takes ~0.1 s; 'dotnet run' would take ~2 s every time.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = $PSScriptRoot
Set-Location $root

if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) {
    [Console]::Error.WriteLine(@'
error: the .NET SDK (dotnet) is not on PATH. Weft needs the .NET 10 SDK.
Install it, then run this script again:
  winget install Microsoft.DotNet.SDK.10
  or: powershell -c "& ([scriptblock]::Create((irm https://dot.net/v1/dotnet-install.ps1))) -Channel 10.0"
See https://dotnet.microsoft.com/download
'@)
    exit 1
}

$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$env:DOTNET_SKIP_FIRST_TIME_EXPERIENCE = '1'

$toolDir = Join-Path $root 'artifacts/tools/Build'
$tool = Join-Path $toolDir 'Build.dll'
$stale = -not (Test-Path $tool)
if (-not $stale) {
    $built = (Get-Item $tool).LastWriteTimeUtc
    $inputs = @(Get-ChildItem -Path (Join-Path $root 'tools/Build') -Recurse -File -Include '*.cs', '*.csproj', '*.props') +
              @(Get-Item (Join-Path $root 'Directory.Build.props'), (Join-Path $root 'Directory.Packages.props') -ErrorAction SilentlyContinue)
    $stale = [bool]($inputs | Where-Object { $_.LastWriteTimeUtc -gt $built } | Select-Object -First 1)
}
if ($stale) {
    # Native commands write to stderr; that must not stop the script (Windows PowerShell turns it into errors).
    $ErrorActionPreference = 'Continue'
    $sdk = (& dotnet --version 2>$null) | Select-Object -First 1
    if (-not ($sdk -match '^(\d+)\.') -or [int]$Matches[1] -lt 10) {
        [Console]::Error.WriteLine("error: Weft needs the .NET 10 SDK or newer; 'dotnet --version' says '$sdk'. See https://dotnet.microsoft.com/download")
        exit 1
    }
    Write-Host '==> building the build program (tools/Build)'
    $log = & dotnet build (Join-Path $root 'tools/Build/Build.csproj') -c Release -o $toolDir -nologo -v q -nodeReuse:false 2>&1
    if ($LASTEXITCODE -ne 0) {
        $log | ForEach-Object { [Console]::Error.WriteLine($_) }
        [Console]::Error.WriteLine('error: could not build tools/Build (output above)')
        exit 1
    }
    (Get-Item $tool).LastWriteTimeUtc = [DateTime]::UtcNow
}

$ErrorActionPreference = 'Continue'
& dotnet $tool @args
exit $LASTEXITCODE
