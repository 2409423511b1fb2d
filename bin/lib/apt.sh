# shellcheck shell=bash
# Debian package helpers for the bin/ scripts: root through sudo when needed, `apt-get update` once per run.
# Sourced, not executed.

ownat_as_root() {
    # Runs a command as root: directly when we are root, through sudo otherwise.
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "error: '$*' needs root and sudo is not installed" >&2
        return 1
    fi
}

ownat_apt_missing() {
    # Succeeds when the Debian package is not installed.
    ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

OWNAT_APT_UPDATED=0

ownat_apt_install() {
    # Installs those of the named packages that are missing, without recommends.
    local missing=() pkg
    for pkg in "$@"; do
        if ownat_apt_missing "$pkg"; then missing+=("$pkg"); fi
    done
    if ((${#missing[@]} == 0)); then return 0; fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: ${missing[*]} missing and there is no apt-get here; install them by hand" >&2
        return 1
    fi
    if ((OWNAT_APT_UPDATED == 0)); then
        echo "==> apt-get update" >&2
        ownat_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        OWNAT_APT_UPDATED=1
    fi
    echo "==> apt-get install ${missing[*]}" >&2
    ownat_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
