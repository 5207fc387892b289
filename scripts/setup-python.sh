#!/usr/bin/env bash
# Create backend/.venv and install the locked dependencies plus the sandpit package.
# Re-running is cheap: Make calls this only when the lock or pyproject changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
backend="$here/../backend"
python=${PYTHON:-/usr/bin/python3}

if [ ! -x "$backend/.venv/bin/python" ]; then
  step "Creating the Python virtual environment (backend/.venv) with $python"
  "$python" -m venv "$backend/.venv"
fi
step "Installing Python dependencies (backend/requirements.lock)"
"$backend/.venv/bin/pip" install -q --upgrade pip
"$backend/.venv/bin/pip" install -q -r "$backend/requirements.lock"
"$backend/.venv/bin/pip" install -q --no-deps -e "$backend"
