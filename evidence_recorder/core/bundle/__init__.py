"""The report bundle format, in one home: sealing (writing), checking, reading the evidence
in it, the report, the seal (SSHSIG), timestamps and the roots trusted for them."""
