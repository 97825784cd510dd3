#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kubectl and etcd from the Go module proxy at
# the versions go.mod pins, into a cache outside the repository keyed by those versions.
# Builds only the binaries the cache lacks, each moved into place by one rename once complete.
# Prints the cache directory.
#   env: BOSUN_KUBE_CACHE overrides the cache root (default: $XDG_CACHE_HOME/bosun/kube or ~/.cache/bosun/kube)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
version_of() { sed -n "s#^[[:space:]]*$1 \(v[^ ]*\).*#\1#p" go.mod | head -n 1; }
k8s="$(version_of k8s.io/kubernetes)"
etcd="$(version_of go.etcd.io/etcd/server/v3)"
root="${BOSUN_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bosun/kube}"
out="$root/${k8s}-${etcd}"
binaries=(kube-apiserver kube-controller-manager kubectl etcd)
missing=()
for binary in "${binaries[@]}"; do [ -x "$out/$binary" ] || missing+=("$binary"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$out"
tmp="$(mktemp -d "$out/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# The version variables that Kubernetes' own release build stamps, so /version and
# `kubectl version` report the real release rather than v0.0.0-master.
minor="${k8s#v1.}"; minor="${minor%%.*}"
date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X ${pkg}.gitVersion=${k8s} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
  kube_ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${date}"
done

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
for binary in "${missing[@]}"; do
  case "$binary" in
    etcd) package=go.etcd.io/etcd/server/v3 ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${etcd}" ;;
    *) package="k8s.io/kubernetes/cmd/$binary" ldflags="$kube_ldflags" ;;
  esac
  echo "bosun: building $binary (${k8s}, etcd ${etcd}) into $out" >&2
  go build -trimpath -ldflags "$ldflags" -o "$tmp/$binary" "$package"
  mv "$tmp/$binary" "$out/$binary"
done
echo "$out"
