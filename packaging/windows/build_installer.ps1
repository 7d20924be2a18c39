# Build dist\gradlab-<version>-setup.exe on Windows (64-bit): the PyInstaller one-folder build of
# packaging\gradlab.spec wrapped by NSIS (packaging\windows\gradlab.nsi).
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build_installer.ps1
#
# Needs: Python 3.10+ (64-bit) as `py -3` or `python`, and NSIS 3 (makensis on PATH or in its
# default folder; `choco install nsis` or `winget install NSIS.NSIS`). Network access to PyPI the
# first time. Everything else goes into build\venv-windows.
#
# Environment (optional): PYTHON  interpreter that creates the build venv.

$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

$Root = (Resolve-Path "$PSScriptRoot\..\..").Path
Set-Location $Root

# A simple function (no param block) so that arguments such as "-m" reach the program untouched.
function Invoke-Checked {
    $Exe, $Rest = $args
    & $Exe @Rest
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Rest -join ' ') failed with exit code $LASTEXITCODE" }
}

$Python = $env:PYTHON
if (-not $Python) {
    if (Get-Command py -ErrorAction SilentlyContinue) { $Python = "py" } else { $Python = "python" }
}
$PyArgs = @()
if ($Python -eq "py") { $PyArgs = @("-3") }

$Version = (& $Python @PyArgs "$Root\packaging\version.py").Trim()
if ($LASTEXITCODE -ne 0 -or -not $Version) { throw "cannot read the version from gradlab\__init__.py" }

$Venv = "$Root\build\venv-windows"
$Work = "$Root\build\windows"
$Requirements = "$Root\packaging\requirements-build.txt"
$Start = Get-Date

# --- 1. build venv: pinned requirements, then gradlab itself ----------------------------------
if (-not (Test-Path "$Venv\Scripts\python.exe")) {
    Write-Host "== creating build venv in $Venv"
    Invoke-Checked $Python @PyArgs -m venv $Venv
}
$VenvPython = "$Venv\Scripts\python.exe"
$Stamp = "$Venv\.gradlab-requirements"
if (-not (Test-Path $Stamp) -or ((Get-FileHash $Stamp).Hash -ne (Get-FileHash $Requirements).Hash)) {
    Write-Host "== installing pinned build requirements"
    Invoke-Checked $VenvPython -m pip install --disable-pip-version-check --quiet --upgrade pip
    Invoke-Checked $VenvPython -m pip install --disable-pip-version-check --quiet -r $Requirements
    Copy-Item $Requirements $Stamp
}

# Install from a copy so that setuptools' build\ and *.egg-info never land in the working tree.
Write-Host "== installing gradlab $Version into the build venv"
$Src = "$Work\src"
if (Test-Path $Src) { Remove-Item -Recurse -Force $Src }
New-Item -ItemType Directory -Force $Src | Out-Null
Copy-Item -Recurse gradlab, resources, pyproject.toml $Src
foreach ($f in "README.md", "LICENSE") { if (Test-Path $f) { Copy-Item $f $Src } }
if (-not (Test-Path "$Src\README.md")) { Set-Content "$Src\README.md" "gradlab" }
Get-ChildItem -Recurse -Directory -Filter __pycache__ $Src | Remove-Item -Recurse -Force
Invoke-Checked $VenvPython -m pip install --disable-pip-version-check --quiet --no-deps `
    --no-build-isolation --force-reinstall $Src

# --- 2. PyInstaller one-folder build ------------------------------------------------------
Write-Host "== PyInstaller"
Invoke-Checked "$Venv\Scripts\pyinstaller.exe" --noconfirm --clean --log-level WARN `
    --distpath "$Work\dist" --workpath "$Work\pyinstaller-work" "$Root\packaging\gradlab.spec"
$App = "$Work\dist\gradlab"
if (-not (Test-Path "$App\gradlab.exe")) { throw "PyInstaller produced no $App\gradlab.exe" }

# --- 3. NSIS ---------------------------------------------------------------------------------
$MakeNsis = $null
$Found = Get-Command makensis -ErrorAction SilentlyContinue
if ($Found) { $MakeNsis = $Found.Source }
if (-not $MakeNsis) {
    foreach ($candidate in "${env:ProgramFiles(x86)}\NSIS\makensis.exe", "$env:ProgramFiles\NSIS\makensis.exe") {
        if (Test-Path $candidate) { $MakeNsis = $candidate; break }
    }
}
if (-not $MakeNsis) { throw "makensis not found: install NSIS 3 (choco install nsis)" }

New-Item -ItemType Directory -Force "$Root\dist" | Out-Null
$Setup = "$Root\dist\gradlab-$Version-setup.exe"
Write-Host "== NSIS"
Invoke-Checked $MakeNsis /V2 "/DVERSION=$Version" "/DSRCDIR=$App" "/DOUTFILE=$Setup" `
    "$Root\packaging\windows\gradlab.nsi"

$Seconds = [int]((Get-Date) - $Start).TotalSeconds
$SizeMB = [math]::Round((Get-Item $Setup).Length / 1MB, 1)
Write-Host "== done in $Seconds s: $Setup ($SizeMB MB)"
