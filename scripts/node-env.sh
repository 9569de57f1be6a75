# shellcheck shell=bash
# Source this file (do not execute it):   source scripts/node-env.sh
#
# Makes sure a recent enough `node` is first on PATH. If the `node` on PATH is
# missing or older than 22.12, a Node 24 binary is installed once from the npm
# package `node-linux-<arch>@24` into ${ONE_TIME_CACHE:-$HOME/.cache/one-time}/node24
# (using the system npm) and its bin directory is prepended to PATH.
#
# It does not change the options (set -e/-u/...) of the shell that sources it.
# On failure it prints a message to stderr and returns non-zero.

__one_time_node_env() {
  local min_major=22 min_minor=12
  local cache="${ONE_TIME_CACHE:-$HOME/.cache/one-time}"
  local dir="$cache/node24"
  local arch pkg bin_dir v major minor

  __one_time_node_ok() {
    # $1 = node executable; succeeds if it runs and is >= min version
    v="$("$1" -p 'process.versions.node' 2>/dev/null)" || return 1
    major="${v%%.*}"
    minor="${v#*.}"
    minor="${minor%%.*}"
    [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || return 1
    ((major > min_major || (major == min_major && minor >= min_minor)))
  }

  if command -v node >/dev/null 2>&1 && __one_time_node_ok node; then
    return 0
  fi

  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *)
      echo "node-env.sh: unsupported architecture $(uname -m); install Node >= $min_major.$min_minor manually" >&2
      return 1
      ;;
  esac
  pkg="node-linux-$arch"
  bin_dir="$dir/node_modules/$pkg/bin"

  if ! __one_time_node_ok "$bin_dir/node"; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "node-env.sh: need Node >= $min_major.$min_minor but neither it nor npm (to fetch $pkg@24) is available" >&2
      return 1
    fi
    echo "node-env.sh: installing Node 24 ($pkg@24) into $dir ..." >&2
    local tmp="$dir.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$cache" "$tmp"
    if ! npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      --prefix "$tmp" "$pkg@24" >"$tmp.log" 2>&1; then
      echo "node-env.sh: 'npm install --prefix $tmp $pkg@24' failed:" >&2
      tail -n 20 "$tmp.log" >&2
      rm -rf "$tmp" "$tmp.log"
      return 1
    fi
    rm -f "$tmp.log"
    if ! __one_time_node_ok "$tmp/node_modules/$pkg/bin/node"; then
      echo "node-env.sh: $pkg@24 was installed but its node binary does not run (or is too old)" >&2
      rm -rf "$tmp"
      return 1
    fi
    # swap into place; if another process won the race, keep theirs
    rm -rf "$dir.old.$$"
    [[ -e "$dir" ]] && mv "$dir" "$dir.old.$$"
    if mv -T "$tmp" "$dir" 2>/dev/null; then
      rm -rf "$dir.old.$$"
    else
      rm -rf "$tmp"
      [[ -e "$dir" ]] || mv "$dir.old.$$" "$dir"
    fi
    if ! __one_time_node_ok "$bin_dir/node"; then
      echo "node-env.sh: Node 24 install in $dir is unusable" >&2
      return 1
    fi
  fi

  export PATH="$bin_dir${PATH:+:$PATH}"
  hash -r 2>/dev/null || true
}

__one_time_node_env
__one_time_node_env_rc=$?
unset -f __one_time_node_env __one_time_node_ok
if ((__one_time_node_env_rc != 0)); then
  unset __one_time_node_env_rc
  # shellcheck disable=SC2317
  return 1 2>/dev/null || exit 1
fi
unset __one_time_node_env_rc
