"""Print the seal number of an Evidence Recorder bundle, with the Python standard library.

    python3 seal_number.py FOLDER/allowed_signers

The seal number is the signing key as twelve groups of five digits, derived as
Signal derives its safety numbers; the sender reads theirs to you by phone.
"""
import base64
import hashlib
import sys

words = open(sys.argv[1], encoding="utf-8").read().split()
key = base64.b64decode(words[words.index("ssh-ed25519") + 1])  # the SSH public key blob
h = (0).to_bytes(2, "big") + key + b"evidence-recorder-seal"  # version, key, identifier
for _ in range(5200):
    h = hashlib.sha512(h + key).digest()
groups = [f"{int.from_bytes(h[i:i + 5], 'big') % 100000:05d}" for i in range(0, 60, 5)]
for row in range(0, 12, 4):
    print(" ".join(groups[row:row + 4]))
