#!/usr/bin/env bash
# Fetches Debian's prometheus package at the version pin.env names and caches its prometheus
# and promtool binaries outside the repository, keyed by that version. Does nothing when they
# are already there. Needs no root: the package is downloaded with `apt-get download`, or, when
# apt has no package lists, straight from the Debian mirror apt is configured with (checked
# against the pinned SHA-256), and unpacked with dpkg-deb. Prints the cache directory.
#   env: BOSUN_PROMETHEUS_CACHE overrides the cache root
#        (default: $XDG_CACHE_HOME/bosun/prometheus or ~/.cache/bosun/prometheus)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=pin.env
. "$here/pin.env"
version="$PROMETHEUS_DEB_VERSION"
root="${BOSUN_PROMETHEUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bosun/prometheus}"
out="$root/$version"
if [ -x "$out/prometheus" ] && [ -x "$out/promtool" ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$root"
# Leftovers of fetches that were killed before they could clean up.
find "$root" -maxdepth 1 -name '.fetch.*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
# Everything happens in a hidden sibling of $out, which appears only by one rename once complete.
work="$(mktemp -d "$root/.fetch.XXXXXX")"
# The download goes to a temp dir that apt's unprivileged download user can reach (a cache under
# a private home cannot be), so that apt need not fall back to downloading as the caller.
download="$(mktemp -d)"
trap 'rm -rf "$work" "$download"' EXIT
chmod 777 "$download"

deb_name="$(basename "$PROMETHEUS_DEB_POOL_PATH")"
say() { echo "bosun: $*" >&2; }

fetch_with_apt() {
  say "downloading prometheus=$version with apt-get download"
  (cd "$download" && apt-get download -q "prometheus=$version" >&2)
}

# The base URLs of the Debian archive in apt's sources (deb822 .sources and one-line .list files).
configured_mirrors() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] && sed -n 's/^URIs:[[:space:]]*//p' "$file" | tr ' ' '\n'
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] && sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' "$file"
  done
}

fetch_from_mirror() {
  [ "$(dpkg --print-architecture)" = "$PROMETHEUS_DEB_ARCH" ] || {
    say "no pinned checksum for $(dpkg --print-architecture); only apt-get download can fetch it here"
    return 1
  }
  local mirror
  while read -r mirror; do
    case "$mirror" in */debian | */debian/) ;; *) continue ;; esac
    say "downloading $PROMETHEUS_DEB_POOL_PATH from the configured Debian mirror"
    if curl -fsSL --retry 2 -o "$download/$deb_name" "${mirror%/}/$PROMETHEUS_DEB_POOL_PATH" &&
      echo "$PROMETHEUS_DEB_SHA256  $download/$deb_name" | sha256sum -c --status; then
      return 0
    fi
    say "that download failed or did not match the pinned SHA-256"
    rm -f "$download/$deb_name"
  done < <(configured_mirrors | sort -u)
  return 1
}

if ! fetch_with_apt; then
  fetch_from_mirror || {
    say "could not fetch Debian's prometheus $version (is apt configured with a Debian mirror?)"
    exit 1
  }
fi
deb="$(find "$download" -name 'prometheus_*.deb' | head -n 1)"
[ -n "$deb" ] || { say "the download left no prometheus .deb"; exit 1; }
dpkg-deb -x "$deb" "$work/root"
mkdir "$work/out"
for binary in prometheus promtool; do
  install -m 0755 "$work/root/usr/bin/$binary" "$work/out/$binary"
done
"$work/out/prometheus" --version >&2
# -T: fail rather than move into an $out that a concurrent fetch completed first.
mv -T "$work/out" "$out" 2>/dev/null || [ -x "$out/prometheus" ]
echo "$out"
