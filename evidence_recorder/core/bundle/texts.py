"""The plain instructions and scripts that travel in every bundle.

They are for people who do not have Evidence Recorder: a police officer checks the
bundle with tools already on their computer. Windows gets a ``cmd.exe`` script
because PowerShell's ``<`` re-encodes text and would break the signature check.
"""

from __future__ import annotations

from typing import Final

from evidence_recorder import APP_NAME

WEB_PAGES_TEXT: Final = """
Web pages
---------
A web page captured in Evidence Recorder's own browser is a folder
data/captures/N/ with these files beside metadata.json (whose "web" block, like
the item's in data/evidence.json, records the address, HTTP status, server IP
address and the site's certificate as the browser saw them):
  full-page.png             the whole page, top to bottom (a very tall page is
                            split into full-page-1.png, full-page-2.png, ...)
  visible.png               what was on the screen when it was captured
  page.mhtml                the page as the browser had it: its HTML and pictures
                            in one MIME file (multipart/related). Open it with the
                            network switched off: a web page may try to load more
                            from the internet, which would tell its site it was seen.
  network.warc.gz           every response the browser received for the page, in a
                            WARC file (ISO 28500, the web archives' format). Check it:
                                warcio check network.warc.gz
                            and list it:  warcio index network.warc.gz
                            (pip install warcio)
  certificate-chain.pem     the site's TLS certificate chain as the browser received
                            it (https pages only). Read it:
                                openssl x509 -in certificate-chain.pem -noout \\
                                  -subject -issuer -dates -fingerprint -sha256
                            (the first certificate in the file is the site's own)
Each file is listed in manifest-sha256.txt like every other.
"""

MESSAGES_TEXT: Final = """
E-mails and chat exports
------------------------
An e-mail or a chat export is a folder data/captures/N/ holding:
  the original file     exactly as it was imported, byte for byte (message.eml,
                        chat.txt, result.json, ...): THIS is the evidence. Its
                        SHA-256 is in metadata.json and data/evidence.json.
  its attachments       each file that came with it (a picture in a WhatsApp
                        zip, an e-mail's attachment), byte for byte, each with
                        its own SHA-256, named in metadata.json ("artefacts").
  messages.json         NOT original: the messages as Evidence Recorder read
                        them out of the original file (sender, time as written
                        and in UTC, text, attachments), in export order, one
                        JSON object each. It is derived and can be made again
                        from the original by the parser named in
                        metadata.json ("messages": "parser"). Its SHA-256 is
                        the "messages_sha256" recorded when the file was
                        imported (in metadata.json and in data/audit.jsonl),
                        so sha256sum messages.json shows that the reading has
                        not changed since the import.
metadata.json's "messages" block records what was read (format, parser,
participants, message count, the time zone assumed for times written without
one); its "flags" list the messages the sender marked as mattering (by their
"index" in messages.json, counting from 0), with a category and a note.
Each file is listed in manifest-sha256.txt like every other.
"""


def verify_readme(identity: str, fingerprint: str, seal_number: str = "", *,
                  web_pages: bool = False, messages: bool = False) -> str:
    """README-VERIFY.txt; ``web_pages`` adds what a web page's files are and how to
    check them with standard tools, ``messages`` what an e-mail's or chat export's
    files are and which of them is derived (for bundles that hold one)."""
    number = ""
    if seal_number:
        groups = seal_number.split()
        rows = "\n".join("    " + " ".join(groups[i:i + 4]) for i in range(0, len(groups), 4))
        number = f"""
and its seal number (the same key as digits, easier to read out by phone) is:

{rows}
"""
    return f"""\
HOW TO CHECK THAT THIS EVIDENCE BUNDLE HAS NOT BEEN ALTERED
============================================================

This folder was exported and sealed by {APP_NAME}. The seal is an SSH signature made
with a key that belongs to the sender's vault. Its fingerprint is:

    {fingerprint}
{number}
Confirm this fingerprint (or the seal number) with the person who sent you the
bundle, by phone or in person (on a number you already have). If it matches and
every check below passes, nothing in this folder has changed since the sender
sealed it. (python3 seal_number.py allowed_signers, from docs/verify/ in the
project's source code, recomputes the seal number.)

Check it with the commands below, typed yourself: they use only standard tools
(sha256sum or certutil, ssh-keygen, openssl). Do not rely on this file's word alone
either: the same steps are in the project's police guide.

What is in the folder
---------------------
  report.pdf, report.html   the report to read
  data/captures/N/          each capture: original.* (exactly as captured or
                            imported), redacted.png (a marked-up copy, if any)
                            with annotations.json (the marks drawn on it),
                            metadata.json. A bundle for a headteacher leaves
                            out the original where the sender covered
                            something, unless they chose to include it
                            (metadata.json: "original_included")
  data/evidence.json        all captures and incidents, machine-readable
  data/audit.jsonl          the audit log entries about these captures (hash-chained)
  data/export.json          when, by whom and on what device it was exported
  manifest-sha256.txt       the SHA-256 of every file under data/
  tagmanifest-sha256.txt    the SHA-256 of the other files, including the manifest
  tagmanifest-sha256.txt.sig      the seal: a signature over tagmanifest-sha256.txt
  tagmanifest-sha256.txt.sig.tsr  a trusted timestamp of the seal (if present)
  allowed_signers           the public key that made the seal
  bagit.txt, bag-info.txt   the BagIt declaration and a summary
  README-VERIFY.txt, verify.sh, verify.cmd   these instructions, and scripts

Nothing else belongs in the folder: a file that no manifest lists (a
"report-CORRECTED.pdf", another copy of a picture) was added after the seal.

Step by step (Linux, macOS)
---------------------------
1. The files:        sha256sum -c manifest-sha256.txt
                     sha256sum -c tagmanifest-sha256.txt
   Every line must end in OK.
   (macOS without sha256sum:  shasum -a 256 -c manifest-sha256.txt)
2. Nothing added:    find . -type f | sort
   Every file it lists must be in one of the two manifests, or be
   tagmanifest-sha256.txt, its .sig or its .sig.tsr.
3. The seal:         ssh-keygen -Y verify -f allowed_signers -I {identity} \\
                       -n evidence-recorder-bundle -s tagmanifest-sha256.txt.sig \\
                       < tagmanifest-sha256.txt
   It must print: Good "evidence-recorder-bundle" signature for {identity}
4. The key:          awk '{{print $3" "$4}}' allowed_signers | ssh-keygen -lf -
   The SHA256:... it prints must be the fingerprint the sender gives you by phone.
5. The timestamp (only if tagmanifest-sha256.txt.sig.tsr is present):
                     openssl ts -reply -in tagmanifest-sha256.txt.sig.tsr -text
   shows when the seal existed. To check it, get the time-stamping authority's root
   certificate from the authority itself (not from this bundle), save it next to
   this folder (not in it) as TSA-CA.pem, and run:
                     openssl ts -verify -in tagmanifest-sha256.txt.sig.tsr \\
                       -data tagmanifest-sha256.txt.sig -CAfile ../TSA-CA.pem
   It must print "Verification: OK". If the authority's certificate has expired
   since, add -no_check_time; if it complains of a missing certificate, add
   -untrusted with the authority's intermediate certificate.

Step by step (Windows 10 or later, in cmd.exe)
----------------------------------------------
1. The files:        certutil -hashfile data\\captures\\1\\original.png SHA256
   for each file, and compare with that file's line in manifest-sha256.txt (the
   files outside data\\ with their lines in tagmanifest-sha256.txt).
2. Nothing added:    dir /s /b /a-d
   Every file it lists must be in one of the two manifests, or be
   tagmanifest-sha256.txt, its .sig or its .sig.tsr.
3. The seal:         ssh-keygen -Y verify -f allowed_signers -I {identity} -n evidence-recorder-bundle -s tagmanifest-sha256.txt.sig < tagmanifest-sha256.txt
   Use cmd.exe: PowerShell changes the bytes that "<" passes on. ssh-keygen must be
   OpenSSH 8.1 or later.
4. The key:          compare the fingerprint in the "Good ... signature" line with
   the one the sender gives you by phone.

Any BagIt validator (for example bagit-python: bagit.py --validate FOLDER) also
checks the files, but not the seal.
{WEB_PAGES_TEXT if web_pages else ""}{MESSAGES_TEXT if messages else ""}
The scripts in this folder
--------------------------
verify.sh (Linux, macOS: sh verify.sh) and verify.cmd (Windows: double-click it, or
type .\\verify.cmd in cmd.exe) run the same checks. A script inside a bundle proves
nothing by itself: whoever altered the bundle could have altered the script too.
Take the scripts from the {APP_NAME} project instead (docs/verify/ in its
source code), or type the commands above. {APP_NAME} itself never runs
these scripts; it checks bundles with its own code.

What this evidence is
---------------------
These captures were made by the person affected, on their own computer. They are a
record, not a forensic acquisition: each picture was fingerprinted (SHA-256) when it
was taken and has not changed since, and the audit log records every action on it.
"""


# The scripts are published in the project as docs/verify/verify.sh and verify.cmd, so
# that an officer can take them from there rather than from a bundle; a test checks
# that those files are byte for byte VERIFY_SH_BYTES and VERIFY_CMD_BYTES. Edit the
# text here and copy it there (or the other way round) in the same commit.

VERIFY_SH_TEXT: Final = r"""#!/bin/sh
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
"""

VERIFY_CMD_TEXT: Final = r"""@echo off
rem Checks an Evidence Recorder bundle folder with tools built into Windows 10 and later
rem (certutil, and the OpenSSH client's ssh-keygen 8.1 or later for the seal).
rem
rem   .\verify.cmd [FOLDER]
rem
rem Type the .\ (or the whole path): cmd.exe reads a bare "verify.cmd" as its own
rem VERIFY command.
rem
rem FOLDER is the unzipped bundle folder; without it, the folder this script is in.
rem Run it from cmd.exe (double-click works), not PowerShell.
rem
rem A copy of this script that came inside a bundle proves nothing by itself: whoever
rem changed the bundle could have changed the script. Take it from the project instead
rem (docs/verify/verify.cmd), or run the commands in README-VERIFY.txt by hand.
rem
rem No name read from the bundle reaches a command line until findstr has checked that
rem it holds only letters, digits and . _ / - (so " & | % ^ ! cannot run anything).
setlocal EnableExtensions DisableDelayedExpansion
if "%~1"=="" (set "bundle=%~dp0") else (set "bundle=%~1")
(call )
cd /d "%bundle%" 2>nul
if errorlevel 1 (echo Cannot open the folder "%bundle%".& exit /b 2)
set "work=%TEMP%\evidence-verify-%RANDOM%%RANDOM%"
mkdir "%work%" 2>nul
if not exist "%work%\" (echo Cannot make a working folder in %%TEMP%%.& exit /b 2)
set "checked=" & set "sealok=" & set "unchecked="

echo 1. Checking the folder's layout
for %%F in (bagit.txt bag-info.txt manifest-sha256.txt tagmanifest-sha256.txt tagmanifest-sha256.txt.sig allowed_signers) do (
  if not exist "%%F" (echo    FAILED: %%F is missing.& echo x>>"%work%\failed")
)
rem A link (symbolic link or junction) could point anywhere: a bundle has none.
for /f "delims=" %%L in ('dir /s /b /al 2^>nul') do (
  echo    FAILED: %%L is a link, not an ordinary file or folder.& echo x>>"%work%\failed"
)
rem A folder with nothing in it: a bundle has none.
for /f "delims=" %%D in ('dir /s /b /ad 2^>nul') do (
  dir /b /a "%%D" 2>nul | findstr "^" >nul || (echo    FAILED: the folder %%D is empty: a bundle has none.& echo x>>"%work%\failed")
)

echo 2. Checking that every line of the manifests names a file this bundle may hold
set "lists=1"
findstr /r /c:"[^0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ._/-]" manifest-sha256.txt >nul 2>nul && set "lists="
findstr /r /v /c:"^[0123456789abcdef]*  data/[0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-]" manifest-sha256.txt >nul 2>nul && set "lists="
findstr /r /c:"[^0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ._-]" tagmanifest-sha256.txt >nul 2>nul && set "lists="
findstr /r /v /c:"^[0123456789abcdef]*  [0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-]" tagmanifest-sha256.txt >nul 2>nul && set "lists="
if not exist manifest-sha256.txt set "lists="
if not exist tagmanifest-sha256.txt set "lists="
if not defined lists (
  echo    FAILED: a manifest has lines that are not "SHA-256, two spaces, a plain file name".
  echo    The files were NOT checked, because the manifests cannot be trusted.
  echo x>>"%work%\failed"
  goto seal
)
type nul > "%work%\listed"
echo 3. Checking every file in data\ against manifest-sha256.txt
call :check manifest-sha256.txt
echo 4. Checking the other files against tagmanifest-sha256.txt
call :check tagmanifest-sha256.txt
for %%F in (bagit.txt bag-info.txt manifest-sha256.txt allowed_signers) do (
  findstr /x /l /c:"%%F" "%work%\listed" >nul || (echo    FAILED: tagmanifest-sha256.txt does not list %%F, so the seal does not cover it.& echo x>>"%work%\failed")
)

echo 5. Checking that the folder holds no file the manifests do not list
echo tagmanifest-sha256.txt>>"%work%\listed"
echo tagmanifest-sha256.txt.sig>>"%work%\listed"
if exist tagmanifest-sha256.txt.sig.tsr echo tagmanifest-sha256.txt.sig.tsr>>"%work%\listed"
set "here=%CD%\"
setlocal EnableDelayedExpansion
set "skip=0"
for /l %%i in (0,1,400) do if not "!here:~%%i,1!"=="" set /a "skip=%%i+1"
endlocal & set "skip=%skip%"
set "added="
for /f "delims=" %%F in ('dir /s /b /a-d 2^>nul') do (
  set "found=%%F"
  call :listed
)
if not defined added echo    OK: nothing added.
set "checked=1"

:seal
echo 6. Checking the seal (signature) with ssh-keygen
set "identity="
set "signers=0"
for /f "usebackq tokens=1" %%I in ("allowed_signers") do (
  set /a signers+=1
  echo(%%I>"%work%\identity"
)
if not "%signers%"=="1" goto badsigners
findstr /r /x /c:"evidence-recorder-vault-[0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-]*" "%work%\identity" >nul || goto badsigners
for /f "usebackq tokens=1" %%I in ("allowed_signers") do set "identity=%%I"
if not exist tagmanifest-sha256.txt.sig (echo    FAILED: the seal cannot be checked: a file it needs is missing.& echo x>>"%work%\failed" & goto stamp)
where ssh-keygen >nul 2>nul || (echo    ssh-keygen was not found, so the seal was NOT checked: install the OpenSSH client 8.1 or later.& set "unchecked=1" & goto stamp)
ssh-keygen -Y verify -f allowed_signers -I "%identity%" -n evidence-recorder-bundle -s tagmanifest-sha256.txt.sig < tagmanifest-sha256.txt
if errorlevel 1 (echo    FAILED: the seal does not match: tagmanifest-sha256.txt was changed, or the seal was. ^(ssh-keygen must be 8.1 or later.^)& echo x>>"%work%\failed" & goto stamp)
set "sealok=1"
for /f "usebackq tokens=3,4" %%K in ("allowed_signers") do echo %%K %%L>"%work%\key.pub"
for /f "tokens=2" %%P in ('ssh-keygen -lf "%work%\key.pub"') do set "fingerprint=%%P"
echo    The key that sealed it has the fingerprint %fingerprint%
goto stamp

:badsigners
echo    FAILED: allowed_signers should name exactly one Evidence Recorder key, and does not.
echo x>>"%work%\failed"

:stamp
set "stamp=not present"
if exist tagmanifest-sha256.txt.sig.tsr (
  set "stamp=not checked, see README-VERIFY.txt"
  echo 7. The trusted timestamp was NOT checked: see README-VERIFY.txt ^(it needs openssl and the authority's own certificate^).
)

echo.
set "result=altered"
if not exist "%work%\failed" if defined checked if defined sealok set "result=intact"
if not exist "%work%\failed" if defined checked if defined unchecked set "result=unchecked"
rd /s /q "%work%" 2>nul
if "%result%"=="intact" (
  echo RESULT: the bundle is intact. Every file matches the manifests, nothing was added or removed, and the seal is good.
  echo NOT CHECKED by this script: that the key is the sender's ^(compare the fingerprint %fingerprint% with the sender by phone^); the timestamp: %stamp%.
  set "code=0"
) else if "%result%"=="unchecked" (
  echo RESULT: NOT VERIFIED. The seal could not be checked on this computer, so nothing is proved.
  set "code=2"
) else (
  echo RESULT: THE BUNDLE HAS BEEN ALTERED OR IS INCOMPLETE. Do not rely on it.
  set "code=1"
)
if "%~1"=="" pause
exit /b %code%


:check
rem Every line of the manifest %1, already checked by findstr: its SHA-256 and file.
setlocal EnableDelayedExpansion
for /f "usebackq tokens=1,* delims= " %%A in ("%~1") do (
  set "want=%%A"
  set "name=%%B"
  set "bad="
  if "!want:~63,1!"=="" set "bad=1"
  if not "!want:~64!"=="" set "bad=1"
  if not "!name: =!"=="!name!" set "bad=1"
  if not "!name:..=!"=="!name!" set "bad=1"
  if not "!name://=!"=="!name!" set "bad=1"
  if "!name:~-1!"=="/" set "bad=1"
  if defined bad (
    echo    FAILED: a line of %~1 is not "SHA-256, two spaces, a plain file name".
    echo x>>"!work!\failed"
  ) else (
    findstr /x /l /i /c:"!name!" "!work!\listed" >nul && (echo    FAILED: !name! is listed twice.& echo x>>"!work!\failed")
    echo !name!>>"!work!\listed"
    set "file=!name:/=\!"
    if not exist "!file!" (
      echo    FAILED   !name! is missing.
      echo x>>"!work!\failed"
    ) else (
      set "got="
      for /f "skip=1 delims=" %%H in ('certutil -hashfile "!file!" SHA256 2^>nul') do if not defined got set "got=%%H"
      if defined got set "got=!got: =!"
      if /i "!got!"=="!want!" (echo    OK       !name!) else (echo    FAILED   !name! has been changed.& echo x>>"!work!\failed")
    )
  )
)
endlocal
exit /b 0

:listed
rem Is the file held in "found" (a full path, from dir) one the manifests list? Its name may hold
rem any character, so it is only ever read through delayed expansion, inside quotes.
setlocal EnableDelayedExpansion
set "name=!found:~%skip%!"
set "name=!name:\=/!"
findstr /x /l /i /c:"!name!" "!work!\listed" >nul 2>nul
if errorlevel 1 (
  echo    FAILED: "!name!" was added: no manifest lists it, so the seal does not cover it.
  echo x>>"!work!\failed"
  endlocal & set "added=1"
  exit /b 0
)
endlocal
exit /b 0
"""

VERIFY_SH_BYTES: Final = VERIFY_SH_TEXT.encode()
VERIFY_CMD_BYTES: Final = VERIFY_CMD_TEXT.replace("\n", "\r\n").encode()  # cmd.exe needs CRLF
