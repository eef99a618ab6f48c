#!/bin/sh
# Checks an Evidence Recorder bundle folder with standard tools (sha256sum or shasum,
# ssh-keygen 8.1 or later, and openssl for a timestamp).
#
#   sh verify.sh [FOLDER [TSA-ROOT.pem]]
#
# FOLDER is the unzipped bundle folder (default: the current folder). TSA-ROOT.pem is
# the time-stamping authority's root certificate, taken from the authority itself; give
# it to check the trusted timestamp too.
#
# A copy of this script that came inside a bundle proves nothing by itself: whoever
# changed the bundle could have changed the script. Take it from the project instead
# (docs/verify/verify.sh), or run the commands in README-VERIFY.txt by hand.
LC_ALL=C
export LC_ALL
folder=${1:-.}
ca=${2:-}
if [ -n "$ca" ]; then
  case $ca in /*) ;; *) ca="$(pwd)/$ca" ;; esac
fi
cd -- "$folder" 2>/dev/null || { echo "Cannot open the folder $folder."; exit 2; }
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT
status=0
seal_ok=0
unchecked=0
stamp_wrong=0
problem() { printf '   FAILED: %s\n' "$*"; status=1; }
shown() { printf '%s\n' "$1" | tr -c '[:print:]\n' '?'; }
if command -v sha256sum >/dev/null 2>&1; then sum="sha256sum"; else sum="shasum -a 256"; fi
hex='[0-9a-f]{64}'

echo "1. Checking the folder's layout"
for name in bagit.txt bag-info.txt manifest-sha256.txt tagmanifest-sha256.txt \
            tagmanifest-sha256.txt.sig allowed_signers; do
  [ -f "$name" ] || problem "$name is missing."
done
# Only ordinary files and folders: a link could point anywhere, a device never ends.
find . ! -type f ! -type d > "$work/odd"
if [ -s "$work/odd" ]; then
  layout_ok=0
  shown "$(sed 's|^\./||' "$work/odd")" | while IFS= read -r line; do
    problem "$line is not an ordinary file (a link or a device)."; done
  status=1
else
  layout_ok=1
fi
find . -type d -empty | sed 's|^\./||' > "$work/empty"
while IFS= read -r line; do problem "the folder $(shown "$line") is empty: a bundle has none."
done < "$work/empty"
[ -s "$work/empty" ] && status=1
[ "$status" = 0 ] && echo "   OK"

echo "2. Checking that every line of the manifests names a file this bundle may hold"
manifests_ok=1
# A payload path: data/ then letters, digits and . _ / - only; no '..', '//' or './'.
bad=$(grep -Evx "$hex  data/[A-Za-z0-9._/-]+" manifest-sha256.txt 2>/dev/null;
      grep -Ex ".*(/\.{1,2}(/.*)?|//.*|/)" manifest-sha256.txt 2>/dev/null)
[ -f manifest-sha256.txt ] || bad="missing"
if [ -n "$bad" ]; then
  problem "manifest-sha256.txt has lines that are not '<SHA-256>  data/<path>':"
  shown "$bad" | sed 's/^/      /'
  manifests_ok=0
fi
bad=$(grep -Evx "$hex  [A-Za-z0-9_-][A-Za-z0-9._-]*" tagmanifest-sha256.txt 2>/dev/null)
[ -f tagmanifest-sha256.txt ] || bad="missing"
if [ -n "$bad" ]; then
  problem "tagmanifest-sha256.txt has lines that are not '<SHA-256>  <file name>':"
  shown "$bad" | sed 's/^/      /'
  manifests_ok=0
fi
if [ "$manifests_ok" = 1 ]; then
  cut -c67- manifest-sha256.txt tagmanifest-sha256.txt > "$work/listed"
  dupes=$(tr 'A-Z' 'a-z' < "$work/listed" | sort | uniq -d)
  if [ -n "$dupes" ]; then
    problem "a file is listed twice in the manifests: $(shown "$dupes")"
    manifests_ok=0
  fi
  for name in bagit.txt bag-info.txt manifest-sha256.txt allowed_signers; do
    grep -qx "$name" "$work/listed" ||
      problem "tagmanifest-sha256.txt does not list $name, so the seal does not cover it."
  done
fi
[ "$manifests_ok" = 1 ] && echo "   OK"

if [ "$manifests_ok" = 1 ] && [ "$layout_ok" = 1 ]; then
  echo "3. Checking every file in data/ against manifest-sha256.txt"
  if out=$($sum -c manifest-sha256.txt 2>&1); then
    echo "   OK: $(printf '%s\n' "$out" | grep -c ': OK$') files match."
  else
    shown "$(printf '%s\n' "$out" | grep -v ': OK$')" | sed 's/^/   /'
    status=1
  fi
  echo "4. Checking the other files against tagmanifest-sha256.txt"
  if out=$($sum -c tagmanifest-sha256.txt 2>&1); then
    echo "   OK: $(printf '%s\n' "$out" | grep -c ': OK$') files match."
  else
    shown "$(printf '%s\n' "$out" | grep -v ': OK$')" | sed 's/^/   /'
    status=1
  fi
  echo "5. Checking that the folder holds no file the manifests do not list"
  { cat "$work/listed"; echo tagmanifest-sha256.txt; echo tagmanifest-sha256.txt.sig
    [ -e tagmanifest-sha256.txt.sig.tsr ] && echo tagmanifest-sha256.txt.sig.tsr
  } | sort > "$work/expected"
  find . -type f | sed 's|^\./||' | sort > "$work/present"
  comm -13 "$work/expected" "$work/present" > "$work/added"
  if [ -s "$work/added" ]; then
    while IFS= read -r line; do
      problem "$(shown "$line") was added: no manifest lists it, so the seal does not cover it."
    done < "$work/added"
    status=1
  else
    echo "   OK: nothing added."
  fi
else
  echo "3-5. The files were NOT checked, because the manifests or the folder cannot be trusted."
  status=1
fi

echo "6. Checking the seal (signature) with ssh-keygen"
signer='evidence-recorder-vault-[A-Za-z0-9_-]+ namespaces="evidence-recorder-bundle" ssh-ed25519 [A-Za-z0-9+/]+=*'
if [ ! -f allowed_signers ] || [ ! -f tagmanifest-sha256.txt.sig ] || [ ! -f tagmanifest-sha256.txt ]; then
  problem "the seal cannot be checked: a file it needs is missing."
elif [ "$(grep -c . allowed_signers)" != 1 ] || ! grep -Eqx "$signer" allowed_signers; then
  problem "allowed_signers should name exactly one Evidence Recorder key, and does not."
elif ! command -v ssh-keygen >/dev/null 2>&1; then
  echo "   ssh-keygen was not found, so the seal was NOT checked (install OpenSSH 8.1 or later)."
  unchecked=1
else
  identity=$(cut -d' ' -f1 allowed_signers)
  if out=$(ssh-keygen -Y verify -f allowed_signers -I "$identity" -n evidence-recorder-bundle \
             -s tagmanifest-sha256.txt.sig < tagmanifest-sha256.txt 2>&1); then
    seal_ok=1
    shown "$out" | sed 's/^/   /'
    fingerprint=$(awk '{print $3" "$4}' allowed_signers | ssh-keygen -lf - | cut -d' ' -f2)
    echo "   The key that sealed it has the fingerprint $fingerprint"
  else
    shown "$out" | sed 's/^/   /'
    problem "the seal does not match: tagmanifest-sha256.txt was changed, or the seal was."
  fi
fi

stamp="not present"
if [ -f tagmanifest-sha256.txt.sig.tsr ]; then
  echo "7. The trusted timestamp (tagmanifest-sha256.txt.sig.tsr)"
  command -v openssl >/dev/null 2>&1 &&
    openssl ts -reply -in tagmanifest-sha256.txt.sig.tsr -text 2>/dev/null \
    | grep -E '^(Time stamp|TSA):' | sed 's/^/   /'
  if ! command -v openssl >/dev/null 2>&1; then
    stamp="not checked (openssl was not found)"
    echo "   NOT checked: openssl was not found."
  elif ! openssl ts -help 2>&1 | grep -q -- -partial_chain; then
    stamp="not checked (this openssl is too old to check it)"
    echo "   NOT checked: this openssl cannot check a timestamp (OpenSSL 1.1 or later can)."
  elif ! openssl ts -reply -in tagmanifest-sha256.txt.sig.tsr -token_out -out "$work/token" \
           >/dev/null 2>&1 ||
       ! openssl pkcs7 -inform DER -in "$work/token" -print_certs -out "$work/own.pem" \
           >/dev/null 2>&1 ||
       ! openssl ts -verify -in tagmanifest-sha256.txt.sig.tsr -data tagmanifest-sha256.txt.sig \
           -CAfile "$work/own.pem" -partial_chain 2>/dev/null | grep -q 'Verification: OK'; then
    problem "the timestamp was not made for this seal, or it is damaged."
    stamp="FAILED"
  elif [ -z "$ca" ]; then
    stamp="made for this seal, but its authority NOT checked (sh verify.sh FOLDER TSA-ROOT.pem)"
    echo "   OK: the timestamp was made for this seal."
    echo "   NOT checked: that a real time-stamping authority made it. Give its root certificate,"
    echo "   taken from the authority itself: sh verify.sh FOLDER TSA-ROOT.pem"
  elif openssl ts -verify -in tagmanifest-sha256.txt.sig.tsr -data tagmanifest-sha256.txt.sig \
         -CAfile "$ca" 2>&1 | grep -q 'Verification: OK'; then
    stamp="checked against the root certificate you gave"
    echo "   OK: the timestamp is good for this seal, from an authority under that root."
  else
    echo "   FAILED: the timestamp does not verify with the root certificate you gave."
    stamp="FAILED with the root certificate you gave"
    stamp_wrong=1
  fi
fi

echo
if [ "$status" -eq 0 ] && [ "$seal_ok" = 1 ] && [ "$stamp_wrong" = 1 ]; then
  echo "RESULT: NOT VERIFIED. The files and the seal are intact, but the timestamp does not verify with the root certificate you gave: another authority made it, or it is forged. Do not rely on its time."
  exit 1
elif [ "$status" -eq 0 ] && [ "$seal_ok" = 1 ]; then
  echo "RESULT: the bundle is intact. Every file matches the manifests, nothing was added or removed, and the seal is good."
  echo "NOT CHECKED by this script: that the key is the sender's (compare the fingerprint $fingerprint with the sender by phone); the timestamp: $stamp."
  exit 0
elif [ "$status" -eq 0 ] && [ "$unchecked" = 1 ]; then
  echo "RESULT: NOT VERIFIED. The seal could not be checked on this computer, so nothing is proved."
  exit 2
fi
echo "RESULT: THE BUNDLE HAS BEEN ALTERED OR IS INCOMPLETE. Do not rely on it."
exit 1
