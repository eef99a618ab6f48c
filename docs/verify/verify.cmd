@echo off
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
