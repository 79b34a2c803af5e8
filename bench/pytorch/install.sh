#!/usr/bin/env bash
# Installs PyTorch for the side-by-side bench: Debian's python3-torch (1.13) with the pthread OpenBLAS, without which
# Debian's torch falls back to the reference BLAS and the comparison means nothing.
set -euo pipefail
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-torch libopenblas0-pthread
/usr/bin/python3 -c "import torch; print('torch', torch.__version__, 'threads', torch.get_num_threads())"
