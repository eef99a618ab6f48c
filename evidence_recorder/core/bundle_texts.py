"""The plain instructions and scripts that travel in every bundle.

They are for people who do not have Evidence Recorder: a police officer checks the
bundle with tools already on their computer. Windows gets a ``cmd.exe`` script
because PowerShell's ``<`` re-encodes text and would break the signature check.
"""

from __future__ import annotations

from typing import Final

from evidence_recorder import APP_NAME


def verify_readme(identity: str, fingerprint: str) -> str:
    return f"""\
HOW TO CHECK THAT THIS EVIDENCE BUNDLE HAS NOT BEEN ALTERED
============================================================

This folder was exported and sealed by {APP_NAME}. The seal is an SSH signature made
with a key that belongs to the sender's vault. Its fingerprint is:

    {fingerprint}

Confirm this fingerprint with the person who sent you the bundle, by phone or in
person. If it matches and the checks below pass, nothing in this folder has changed
since the sender sealed it.

What is in the folder
---------------------
  report.pdf, report.html   the report to read
  data/captures/N/          each capture: original.* (exactly as captured or
                            imported), redacted.png (a marked-up copy, if any)
                            with annotations.json (the marks drawn on it),
                            metadata.json
  data/evidence.json        all captures and incidents, machine-readable
  data/audit.jsonl          the audit log entries about these captures (hash-chained)
  manifest-sha256.txt       the SHA-256 of every file under data/
  tagmanifest-sha256.txt    the SHA-256 of the other files, including the manifest
  tagmanifest-sha256.txt.sig      the seal: a signature over tagmanifest-sha256.txt
  tagmanifest-sha256.txt.sig.tsr  a trusted timestamp of the seal (if present)
  allowed_signers           the public key that made the seal

Quick check
-----------
  Linux or macOS:  open a terminal in this folder and run   sh verify.sh
  Windows:         double-click verify.cmd (or run it from cmd.exe, not PowerShell)

Step by step (Linux, macOS)
---------------------------
1. The files:        sha256sum -c manifest-sha256.txt
                     sha256sum -c tagmanifest-sha256.txt
   (macOS without sha256sum:  shasum -a 256 -c manifest-sha256.txt)
2. The seal:         ssh-keygen -Y verify -f allowed_signers -I {identity} \\
                       -n evidence-recorder-bundle -s tagmanifest-sha256.txt.sig \\
                       < tagmanifest-sha256.txt
   It must print: Good "evidence-recorder-bundle" signature for {identity}
3. The key:          awk '{{print $3" "$4}}' allowed_signers | ssh-keygen -lf -
   The SHA256:... it prints must be the fingerprint the sender gave you.
4. The timestamp (only if tagmanifest-sha256.txt.sig.tsr is present):
                     openssl ts -reply -in tagmanifest-sha256.txt.sig.tsr -text
   shows when the seal existed. To check it, get the time-stamping authority's root
   certificate from the authority itself (not from this bundle), say TSA-CA.pem:
                     openssl ts -verify -in tagmanifest-sha256.txt.sig.tsr \\
                       -data tagmanifest-sha256.txt.sig -CAfile TSA-CA.pem
   It must print "Verification: OK". If the authority's certificate has expired
   since, add -no_check_time; if it complains of a missing certificate, add
   -untrusted with the authority's intermediate certificate.

Step by step (Windows 10 or later, in cmd.exe)
----------------------------------------------
1. The files:        certutil -hashfile data\\captures\\1\\original.png SHA256
   and compare with the line for that file in manifest-sha256.txt (verify.cmd does
   this for every file).
2. The seal:         ssh-keygen -Y verify -f allowed_signers -I {identity} -n evidence-recorder-bundle -s tagmanifest-sha256.txt.sig < tagmanifest-sha256.txt
   Use cmd.exe: PowerShell changes the bytes that "<" passes on.

Any BagIt validator (for example bagit-python: bagit.py --validate FOLDER) also
accepts this folder.

What this evidence is
---------------------
These captures were made by the person affected, on their own computer. They are a
record, not a forensic acquisition: each picture was fingerprinted (SHA-256) when it
was taken and has not changed since, and the audit log records every action on it.
"""


VERIFY_SH_TEXT: Final = """\
#!/bin/sh
# Checks this evidence bundle with standard tools. Run it in this folder: sh verify.sh
cd "$(dirname "$0")" || exit 2
status=0
if command -v sha256sum >/dev/null 2>&1; then sum="sha256sum"; else sum="shasum -a 256"; fi

echo "1. Checking every file in data/ against manifest-sha256.txt"
if out=$($sum -c manifest-sha256.txt 2>&1); then
  echo "   OK: $(printf '%s\n' "$out" | grep -c ': OK$') files match."
else
  printf '%s\n' "$out" | grep -v ': OK$' | sed 's/^/   /'
  status=1
fi
echo "2. Checking the other files against tagmanifest-sha256.txt"
if out=$($sum -c tagmanifest-sha256.txt 2>&1); then
  echo "   OK"
else
  printf '%s\n' "$out" | grep -v ': OK$' | sed 's/^/   /'
  status=1
fi

echo "3. Checking the seal (signature) with ssh-keygen"
identity=$(cut -d' ' -f1 allowed_signers)
if ssh-keygen -Y verify -f allowed_signers -I "$identity" -n evidence-recorder-bundle \\
     -s tagmanifest-sha256.txt.sig < tagmanifest-sha256.txt; then
  echo "   The key that sealed it has this fingerprint:"
  awk '{print $3" "$4}' allowed_signers | ssh-keygen -lf - | sed 's/^/   /'
  echo "   Confirm it with the person who sent you this bundle."
else
  status=1
fi

if [ -f tagmanifest-sha256.txt.sig.tsr ]; then
  echo "4. Timestamp, NOT checked here (README-VERIFY.txt says how to check it against the authority)"
  openssl ts -reply -in tagmanifest-sha256.txt.sig.tsr -text 2>/dev/null \\
    | grep -E 'Time stamp:|TSA:' | sed 's/^/   /'
fi

echo
if [ "$status" -eq 0 ]; then
  echo "RESULT: the bundle is intact."
else
  echo "RESULT: THE BUNDLE HAS BEEN ALTERED OR IS INCOMPLETE. Do not rely on it."
fi
exit "$status"
"""


VERIFY_CMD_TEXT: Final = """\
@echo off
rem Checks this evidence bundle with tools built into Windows 10 and later.
rem Run it from cmd.exe (double-click works); PowerShell would change the bytes.
setlocal EnableDelayedExpansion
cd /d "%~dp0"
set status=0
echo 1. Checking every file in data\\ against manifest-sha256.txt
for /f "usebackq tokens=1,*" %%A in ("manifest-sha256.txt") do (
  set "want=%%A"
  set "file=%%B"
  set "file=!file:/=\\!"
  set "got="
  for /f "skip=1 delims=" %%H in ('certutil -hashfile "!file!" SHA256 2^>nul') do (
    if not defined got set "got=%%H"
  )
  set "got=!got: =!"
  if /i "!got!"=="!want!" (
    echo    OK       %%B
  ) else (
    echo    CHANGED  %%B
    set status=1
  )
)
echo 2. Checking the seal with ssh-keygen
for /f "tokens=1" %%I in (allowed_signers) do set "identity=%%I"
ssh-keygen -Y verify -f allowed_signers -I "!identity!" -n evidence-recorder-bundle -s tagmanifest-sha256.txt.sig < tagmanifest-sha256.txt
if errorlevel 1 set status=1
for /f "tokens=3,4" %%K in (allowed_signers) do echo %%K %%L> "%TEMP%\\evidence-bundle-key.pub"
echo The key that sealed it has this fingerprint (confirm it with the sender):
ssh-keygen -lf "%TEMP%\\evidence-bundle-key.pub"
del "%TEMP%\\evidence-bundle-key.pub"
echo.
if "!status!"=="0" (
  echo RESULT: the bundle is intact. Confirm the key fingerprint with the sender.
) else (
  echo RESULT: THE BUNDLE HAS BEEN ALTERED OR IS INCOMPLETE. Do not rely on it.
)
pause
exit /b !status!
"""
