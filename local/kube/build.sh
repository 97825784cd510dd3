#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and etcd from the Go module proxy at the
# versions go.mod pins, into a cache outside the repository keyed by those versions.
# Does nothing when the three binaries are already there. Prints the cache directory.
#   env: BOSUN_KUBE_CACHE overrides the cache root (default: $XDG_CACHE_HOME/bosun/kube or ~/.cache/bosun/kube)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
version_of() { sed -n "s#^[[:space:]]*$1 \(v[^ ]*\).*#\1#p" go.mod | head -n 1; }
k8s="$(version_of k8s.io/kubernetes)"
etcd="$(version_of go.etcd.io/etcd/server/v3)"
root="${BOSUN_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bosun/kube}"
out="$root/${k8s}-${etcd}"
if [ -x "$out/kube-apiserver" ] && [ -x "$out/kube-controller-manager" ] && [ -x "$out/etcd" ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$out"
tmp="$(mktemp -d "$out/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# The version variables that Kubernetes' own release build stamps, so /version reports
# the real release rather than v0.0.0-master.
minor="${k8s#v1.}"; minor="${minor%%.*}"
date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=${k8s} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
  ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${date}"
done

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
step() { echo "bosun: building $1 (${k8s}, etcd ${etcd}) into $out" >&2; }
step kube-apiserver
go build -trimpath -ldflags "$ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
step kube-controller-manager
go build -trimpath -ldflags "$ldflags" -o "$tmp/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager
step etcd
go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${etcd}" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
mv "$tmp/kube-apiserver" "$tmp/kube-controller-manager" "$tmp/etcd" "$out/"
echo "$out"
