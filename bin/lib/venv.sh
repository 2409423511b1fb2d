# shellcheck shell=bash
# Keeps .venv in step with pyproject.toml and constraints.txt; reinstalls only when they change.
# Sourced by bin/dev and bin/test once they are at the repository root, not executed.

# shellcheck source=bin/lib/apt.sh
source "${BASH_SOURCE[0]%/*}/apt.sh"

OWNAT_VENV=.venv

ownat_install_inputs_hash() {
    # What the installed environment depends on; a change to either file means reinstall.
    cat pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -d' ' -f1
}

ownat_create_venv() {
    if ! command -v python3 >/dev/null 2>&1; then ownat_apt_install python3; fi
    if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "error: Ownat needs Python 3.11 or newer; python3 is $(python3 -V 2>&1)" >&2
        return 1
    fi
    echo "==> creating $OWNAT_VENV" >&2
    # Debian ships venv's pip bootstrap separately, in python3-venv.
    if ! python3 -m venv "$OWNAT_VENV" 2>/dev/null; then
        ownat_apt_install python3-venv
        python3 -m venv "$OWNAT_VENV"
    fi
    "$OWNAT_VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
}

ownat_ensure_venv() {
    # Usage: ownat_ensure_venv [EXTRA]. Installs `-e .` or `-e .[EXTRA]` with the constraints.
    local extra=${1:-} spec=. stamps=("$OWNAT_VENV/.ownat-install-stamp")
    if [[ -n $extra ]]; then
        spec=".[$extra]"
        stamps+=("$OWNAT_VENV/.ownat-install-stamp-$extra")
    fi
    # The last stamp is the one this spec needs; an install with an extra also covers the plain one.
    local stamp=${stamps[-1]} want
    want=$(ownat_install_inputs_hash)
    if [[ -x $OWNAT_VENV/bin/ownat && -f $stamp && $(<"$stamp") == "$want" ]]; then
        return 0
    fi

    mkdir -p "$OWNAT_VENV"
    local lock_fd
    if command -v flock >/dev/null 2>&1; then
        # Two scripts started together must not run pip into the same venv at once.
        exec {lock_fd}>"$OWNAT_VENV/.ownat-install.lock"
        flock "$lock_fd"
        if [[ -x $OWNAT_VENV/bin/ownat && -f $stamp && $(<"$stamp") == "$want" ]]; then
            exec {lock_fd}>&-
            return 0
        fi
    fi
    if [[ ! -x $OWNAT_VENV/bin/pip ]]; then ownat_create_venv; fi

    local constraints=()
    if [[ -f constraints.txt ]]; then constraints=(-c constraints.txt); fi
    echo "==> installing $spec into $OWNAT_VENV (pyproject.toml or constraints.txt changed)" >&2
    "$OWNAT_VENV/bin/python" -m pip install -q --disable-pip-version-check "${constraints[@]}" -e "$spec"
    local s
    for s in "${stamps[@]}"; do printf '%s\n' "$want" >"$s"; done
    if [[ -n ${lock_fd:-} ]]; then exec {lock_fd}>&-; fi
}
