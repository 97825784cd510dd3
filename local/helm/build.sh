#!/usr/bin/env bash
# Builds helm (helm.sh/helm/v4/cmd/helm) at the version pin.env names from the Go module proxy,
# into a cache outside the repository keyed by that version. Does nothing when the binary is
# already there. The module has no replace directives, so `go install <package>@<version>` builds
# it with the requirements of its own go.mod. Prints the cache directory.
#   env: BOSUN_HELM_CACHE overrides the cache root (default: $XDG_CACHE_HOME/bosun/helm or ~/.cache/bosun/helm)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=pin.env
. "$here/pin.env"
version="$HELM_VERSION"
root="${BOSUN_HELM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bosun/helm}"
out="$root/$version"
if [ -x "$out/helm" ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$out"
tmp="$(mktemp -d "$out/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "bosun: building helm ${version} into $out" >&2
# Outside any module, so that go.mod files around the checkout play no part; the -X flag is what
# helm's own release build stamps, so `helm version` reports the release rather than its minor.
cd "$tmp"
GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS= GOBIN="$tmp" \
  go install -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=${version}" \
  "helm.sh/helm/v4/cmd/helm@${version}"
"$tmp/helm" version >&2
mv "$tmp/helm" "$out/helm"
echo "$out"
