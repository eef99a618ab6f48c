"""How ``vault-v3.tar.gz`` was made: run with the code of the last schema-3 release.

    git archive c1341e6 evidence_recorder | tar -x -C /tmp/er-v3
    ER_TESTS_USE_TINY_KDF=1 XDG_CONFIG_HOME=/tmp/cfg XDG_DATA_HOME=/tmp/data \
        PYTHONPATH=/tmp/er-v3 python tests/data/make_v3_vault.py /tmp/out

It writes a vault (passphrase and key-derivation parameters as in tests/conftest.py)
holding 40 captures as schema 3 kept them: screen grabs and imported PNG, JPEG and
WebP files, an incident, edits, highlights and a deletion (no received bundle,
so that dropping the version-2 tables makes a true version-1 vault of it). The
migration tests open copies of it with today's code. Kept, not rebuilt, so that what
they migrate is exactly what older versions wrote.
"""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

from PIL import Image

from evidence_recorder.core.gather import capture, recorder
from evidence_recorder.core.model import CaptureDetails
from evidence_recorder.core.vault.keyfile import KdfParams
from evidence_recorder.core.vault.store import Vault

PASSPHRASE = "plum orchard lantern 42"
FAST_KDF = KdfParams(time_cost=1, memory_cost=8, parallelism=1)


def main() -> None:
    out = Path(sys.argv[1])
    folder = out / "vault-v3"
    vault, _recovery = Vault.create(folder, PASSPHRASE, kdf=FAST_KDF)
    phone = out / "phone"
    phone.mkdir(parents=True, exist_ok=True)
    with vault:
        incident = vault.new_incident("Comments on the school page")
        ids = []
        for n in range(40):
            image = Image.effect_noise((8 + n % 9, 6 + n % 7), 60).convert("RGB")
            if n % 4 == 3:
                fmt, ext = [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")][n % 3]
                buf = io.BytesIO()
                image.save(buf, fmt)
                path = phone / f"shot{n}.{ext}"
                path.write_bytes(buf.getvalue())
                outcome = recorder.import_files(vault, [path],
                                                CaptureDetails(site="Facebook"))
                ids.append(outcome.saved[0][1])
            else:
                grab = capture.grab(capture.FakeGrabber(image))
                ids.append(recorder.save_grab(
                    vault, grab, CaptureDetails(description=f"capture {n}"),
                    incident_id=incident.id if n % 2 else None))
        vault.edit_capture(ids[0], {"site": "Facebook", "author": "J. Smith"})
        vault.set_annotations(ids[1], {"version": 1, "items": [
            {"type": "redact", "rect": [0, 0, 5, 5]}]})
        vault.delete_capture(ids[2], "blurred duplicate")
    with tarfile.open(out / "vault-v3.tar.gz", "w:gz") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=f"vault-v3/{path.name}")


if __name__ == "__main__":
    main()
