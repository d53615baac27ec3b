#!/usr/bin/env bash
# Build the one-folder desktop bundle (dist/opensight-desktop/) in a clean virtual
# environment, then smoke-test the built bundle (start, version, headless import + analyse
# + report on generated images with a random-weight checkpoint).
#   packaging/build.sh            build and test
#   packaging/build.sh --test-only   test an existing dist/opensight-desktop
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build/packaging
DIST=dist/opensight-desktop
if [ "${1:-}" != "--test-only" ]; then
  rm -rf "$BUILD/venv" "$BUILD/work" "$DIST"
  python3 -m venv "$BUILD/venv"
  "$BUILD/venv/bin/pip" install --quiet . "pyinstaller>=6.6"
  started=$(date +%s)
  "$BUILD/venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
      --distpath dist --workpath "$BUILD/work" packaging/opensight-desktop.spec
  echo "build: $(( $(date +%s) - started )) s"
  install -m 644 packaging/opensight-desktop.desktop "$DIST/"
  install -m 644 resources/icons/opensight.png "$DIST/opensight-desktop.png"
fi
echo "bundle size: $(du -sh "$DIST" | cut -f1)"
"$BUILD/venv/bin/python" packaging/smoke_test.py "$DIST"
