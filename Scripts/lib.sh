# Shared helpers for Scripts/*: install what is missing, nothing more. Sourced, not run.

# Installs the Debian packages among "$@" that are not installed yet (as root, or through sudo).
ensure_apt_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Scripts: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Installs the Python packages among "$@" (module==pip name) that python3 cannot import yet.
ensure_python_modules() {
    for module in "$@"; do
        python3 -c "import $module" 2>/dev/null && continue
        echo "Scripts: installing Python package $module" >&2
        python3 -m pip install --quiet --disable-pip-version-check "$module"
    done
}

# Fails with a clear line when Swift is not installed (it is not a Debian package we can add).
ensure_swift() {
    command -v swift >/dev/null 2>&1 && return 0
    echo "Scripts: swift is not on PATH; install Swift 6 from https://swift.org/install first" >&2
    exit 1
}

# The PREFIX of `Scripts/NAME [--prefix DIR]` (default /usr/local), absolute; a usage error exits 64.
prefix_option() {
    local name=$1 prefix=/usr/local
    shift
    while [ $# -gt 0 ]; do
        case $1 in
            --prefix) [ $# -ge 2 ] || { echo "Scripts/$name: --prefix needs a directory" >&2; exit 64; }; prefix=$2; shift 2 ;;
            --prefix=*) prefix=${1#--prefix=}; shift ;;
            *) echo "usage: Scripts/$name [--prefix DIR]" >&2; exit 64 ;;
        esac
    done
    case $prefix in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
    echo "$prefix"
}
