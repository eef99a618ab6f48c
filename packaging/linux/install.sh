#!/usr/bin/env bash
# Installs Evidence Recorder for you alone (no administrator needed), from the unpacked
# tarball this script came in:
#
#   ./install.sh               install, or replace an earlier version
#   ./install.sh --uninstall   remove the app (your vault and its evidence are kept)
#
# Where things go:
#   ~/.local/opt/evidence-recorder/      the app (with a copy of this script, for --uninstall)
#   ~/.local/bin/evidence-recorder       a link to it, for the terminal
#   ~/.local/share/applications, icons, metainfo, mime   the menu entry, icon and file type
# Your vault lives elsewhere (~/.local/share/EvidenceRecorder) and is never touched here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app_id=uk.evidencerecorder.EvidenceRecorder
data=${XDG_DATA_HOME:-$HOME/.local/share}
opt=$HOME/.local/opt/evidence-recorder
bin=$HOME/.local/bin
sizes="16 24 32 48 64 128 256 512"

refresh() {
  # Let the desktop notice the change; each tool is optional.
  if command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$data/applications" 2>/dev/null || true
  fi
  if command -v update-mime-database >/dev/null; then
    update-mime-database "$data/mime" >/dev/null 2>&1 || true
  fi
  if command -v gtk-update-icon-cache >/dev/null && [ -f "$data/icons/hicolor/index.theme" ]; then
    gtk-update-icon-cache -q -t "$data/icons/hicolor" 2>/dev/null || true
  fi
  touch "$data/icons/hicolor" 2>/dev/null || true
}

uninstall() {
  rm -rf "$opt"
  if [ -L "$bin/evidence-recorder" ]; then rm -f "$bin/evidence-recorder"; fi
  rm -f "$data/applications/$app_id.desktop" "$data/metainfo/$app_id.metainfo.xml" \
        "$data/mime/packages/$app_id.xml" "$data/icons/hicolor/scalable/apps/$app_id.svg"
  for size in $sizes; do rm -f "$data/icons/hicolor/${size}x$size/apps/$app_id.png"; done
  refresh
  echo "Evidence Recorder has been removed. Your vault (in ${XDG_DATA_HOME:-~/.local/share}/EvidenceRecorder) is still there."
}

case "${1:-}" in
  --uninstall) uninstall; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--uninstall]" >&2; exit 2 ;;
esac

[ -x "$here/app/evidence-recorder" ] || { echo "$here/app/evidence-recorder is missing: unpack the whole tarball first." >&2; exit 1; }

# The new copy goes in beside the old one and replaces it only once it is complete.
mkdir -p "$(dirname "$opt")" "$bin"
rm -rf "$opt.new"
cp -a "$here/app" "$opt.new"
install -m 0755 "$here/install.sh" "$opt.new/install.sh"  # for --uninstall later
rm -rf "$opt"
mv "$opt.new" "$opt"
ln -sfn "$opt/evidence-recorder" "$bin/evidence-recorder"

mkdir -p "$data/applications" "$data/metainfo" "$data/mime/packages" "$data/icons/hicolor/scalable/apps"
# Absolute paths: ~/.local/bin is not on every desktop session's PATH.
sed -e "s|^Exec=evidence-recorder|Exec=$opt/evidence-recorder|" \
    -e "s|^TryExec=evidence-recorder|TryExec=$opt/evidence-recorder|" \
    "$here/share/applications/$app_id.desktop" > "$data/applications/$app_id.desktop"
cp "$here/share/metainfo/$app_id.metainfo.xml" "$data/metainfo/"
cp "$here/share/mime/packages/$app_id.xml" "$data/mime/packages/"
cp "$here/share/icons/hicolor/scalable/apps/$app_id.svg" "$data/icons/hicolor/scalable/apps/"
for size in $sizes; do
  mkdir -p "$data/icons/hicolor/${size}x$size/apps"
  cp "$here/share/icons/hicolor/${size}x$size/apps/$app_id.png" "$data/icons/hicolor/${size}x$size/apps/"
done
refresh

echo "Evidence Recorder is installed. Start it from your applications menu, or run: $bin/evidence-recorder"
case ":$PATH:" in *":$bin:"*) ;; *) echo "($bin is not on your PATH; the menu entry works anyway.)" ;; esac
echo "To remove it later: $opt/install.sh --uninstall"
