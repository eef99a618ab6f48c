"""E-mails and chat exports taken in as evidence (step 10).

Every parser returns the shapes of ``core.conversation`` (``Message``,
``MessageExport``, ``MessageSource``), which the vault stores. ``detect`` works out what a file
is from its bytes, not its name; ``parse`` is the one door: a path in, a
``MessageExport`` out, or ``RefusedInput`` with a plain sentence. One module per
format family: ``email_files`` (.eml, .msg, mbox, DKIM), ``whatsapp``, ``chat_json``
(Telegram, Messenger/Instagram, Discord), ``sms`` (SMS Backup & Restore XML),
``signal``. ``limits`` holds every bound for hostile files.
"""
