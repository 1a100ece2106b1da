#!/usr/bin/env bash
# Regenerates the Go code for sdk/proto with pinned generators.
# Called by `make proto` from the repository root; safe to run from anywhere.
# Needs protoc (Debian: apt-get install -y protobuf-compiler), which also
# ships the google/protobuf well-known types under /usr/include.
set -euo pipefail

PROTOC_GEN_GO_VERSION=v1.36.12     # matches google.golang.org/protobuf in sdk/go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.5.1  # needs google.golang.org/grpc >= 1.64

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools="$root/bin/tools"
mkdir -p "$tools"

# install_pinned BINARY MODULE VERSION: installs into bin/tools unless the
# binary there already reports the pinned version.
install_pinned() {
	local bin="$1" mod="$2" version="$3" have=""
	if [[ -x "$tools/$bin" ]]; then
		have="$("$tools/$bin" --version 2>/dev/null | awk '{print $NF}')"
	fi
	if [[ "$have" != "$version" && "v$have" != "$version" ]]; then
		echo "installing $bin@$version into $tools" >&2
		(cd "$root" && GOBIN="$tools" GOFLAGS=-mod=mod go install "$mod@$version")
	fi
}

install_pinned protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION"
install_pinned protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"

command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }

cd "$root/sdk/proto"
find . -name '*.pb.go' -delete
mapfile -t protos < <(find . -name '*.proto' | sed 's|^\./||' | sort)
PATH="$tools:$PATH" protoc \
	-I . \
	--go_out=. --go_opt=paths=source_relative \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative \
	"${protos[@]}"
echo "generated Go code for ${#protos[@]} proto files" >&2
