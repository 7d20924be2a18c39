# Sourced by build_deb.sh and macos/build_dmg.sh: the build venv with the pinned requirements,
# then gradlab installed into it. Expects PYTHON, VENV, WORK, REQUIREMENTS, VERSION and the
# functions say/die to be set; runs from the repository root.

prepare_build_venv() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        say "creating build venv in $VENV"
        "$PYTHON" -m venv "$VENV" || die "cannot create a venv (Debian/Ubuntu: apt install python3-venv)"
    fi
    if ! cmp -s "$REQUIREMENTS" "$VENV/.gradlab-requirements"; then
        say "installing pinned build requirements"
        "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
        "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet -r "$REQUIREMENTS"
        cp "$REQUIREMENTS" "$VENV/.gradlab-requirements"
    fi

    # Install from a copy so that setuptools' build/ and *.egg-info never land in the working tree.
    say "installing gradlab $VERSION into the build venv"
    local src="$WORK/src"
    rm -rf "$src"
    mkdir -p "$src"
    cp -R gradlab resources pyproject.toml "$src/"
    for f in README.md LICENSE; do [[ -f "$f" ]] && cp "$f" "$src/"; done
    [[ -f "$src/README.md" ]] || echo "gradlab" > "$src/README.md"  # pyproject names it as the readme
    find "$src" -name __pycache__ -prune -exec rm -rf {} +
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet --no-deps \
        --no-build-isolation --force-reinstall "$src"
}
