; Inno Setup script: a per-user installer for Evidence Recorder on Windows (no administrator
; needed). Build the app first, on Windows, with PyInstaller (see packaging/README.md):
;
;   .venv\Scripts\pyinstaller --noconfirm --clean --distpath packaging\build\dist ^
;       --workpath packaging\build\work packaging\evidence-recorder.spec
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\evidence-recorder.iss
;
; Result: packaging\build\evidence-recorder-0.1.0-windows-x64-setup.exe
; It installs into %LOCALAPPDATA%\Programs\Evidence Recorder, adds a Start-menu entry,
; lets Evidence Recorder open .zip bundles (as an "Open with" choice under HKCU, without
; taking .zip files over from Explorer), and registers an uninstaller. The vault in
; %APPDATA%\EvidenceRecorder is never touched by installing or uninstalling.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Evidence Recorder"
#define AppId "uk.evidencerecorder.EvidenceRecorder"
#define AppExe "evidence-recorder.exe"
#define ProgId "EvidenceRecorder.Bundle"
#define BuildDir "..\build"

[Setup]
; AppId must never change between versions: it is how upgrades find the old install.
AppId={#AppId}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Evidence Recorder developers
PrivilegesRequired=lowest
DefaultDirName={localappdata}\Programs\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
OutputDir={#BuildDir}
OutputBaseFilename=evidence-recorder-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icons\evidence-recorder.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole PyInstaller onedir folder: evidence-recorder.exe (windowed), evidence-recorder-cli.exe
; (console, for scripts) and _internal\ with Python, Qt, SQLCipher, resources\ and docs\.
Source: "{#BuildDir}\dist\evidence-recorder\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{userprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; AppUserModelID: "{#AppId}"
Name: "{userdesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; A ProgID for bundles, offered for .zip in "Open with" (OpenWithProgids), all under HKCU.
Root: HKCU; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "Evidence Recorder bundle"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKCU; Subkey: "Software\Classes\{#ProgId}\shell\open"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"
Root: HKCU; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKCU; Subkey: "Software\Classes\.zip\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
; So that Windows lists the app by name and knows what it opens.
Root: HKCU; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".zip"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the app itself unpacked; the vault lives in %APPDATA% and is kept.
Type: filesandordirs; Name: "{app}\_internal"
