#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when a source file includes a part its directory must not know:
#   protocol/  only itself (no daemon/, client/, tools/)
#   client/    only itself and protocol/ (never daemon/ or tools/)
#   daemon/    never client/, tools/, tests/ or bench/
#   layering.sh SOURCE_DIR
set -eu
src=${1:?usage: layering.sh SOURCE_DIR}
cd "$src"
bad=$(
  grep -rn '#include "\(daemon\|client\|tools\|tests\|bench\)/' protocol || true
  grep -rn '#include "\(daemon\|tools\|tests\|bench\)/' client || true
  grep -rn '#include "\(client\|tools\|tests\|bench\)/' daemon || true
)
if [ -n "$bad" ]; then
  echo "includes across the layering (docs/architecture.md):" >&2
  echo "$bad" >&2
  exit 1
fi
echo "protocol/, client/ and daemon/ include only what they may"
