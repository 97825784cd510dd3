#!/usr/bin/env bash
# Regenerates go.mod for a Kubernetes release: k8s.io/kubernetes cannot be required as is,
# because its published go.mod pins every staging module (k8s.io/api, k8s.io/client-go, ...)
# at v0.0.0 and replaces it with a path inside its own repository. Each of those is
# replaced here with the release tagged alongside it (v1.X.Y -> v0.X.Y). The list is read
# from the published go.mod, since it changes between minors.
#   usage: local/kube/gen-gomod.sh <kubernetes version> <etcd version>
set -euo pipefail
k8s="${1:?kubernetes version, e.g. v1.36.3}"
etcd="${2:?etcd version, e.g. v3.6.16}"
here="$(cd "$(dirname "$0")" && pwd)"
staging="v0.${k8s#v1.}"
modfile="$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${k8s}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
[ -f "$modfile" ] || { echo "could not download k8s.io/kubernetes@${k8s}" >&2; exit 1; }
goversion="$(sed -n 's/^go \(.*\)$/\1/p' "$modfile")"
{
  echo "module bosun.local/kube"
  echo
  echo "go ${goversion}"
  echo
  echo "require ("
  echo "	go.etcd.io/etcd/server/v3 ${etcd}"
  echo "	k8s.io/kubernetes ${k8s}"
  echo ")"
  echo
  echo "replace ("
  grep -E '^[[:space:]]+k8s\.io/[a-z0-9./-]+ v0\.0\.0$' "$modfile" | awk -v v="$staging" '{ printf "\t%s => %s %s\n", $1, $1, v }' | sort -u
  echo ")"
} > "$here/go.mod"
cd "$here"
rm -f go.sum
GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod tidy
echo "go.mod now builds Kubernetes ${k8s} with etcd ${etcd}"
