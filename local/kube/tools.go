//go:build tools

// Package kube pins the upstream Kubernetes and etcd commands that bosun's local
// control planes run. Nothing here is bosun code: the build script compiles the
// upstream mains listed below, at the versions go.mod requires.
package kube

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
