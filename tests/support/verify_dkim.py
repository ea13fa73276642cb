#!/usr/bin/env python3
"""Verifies the DKIM signature of every message in a Maildir with dkimpy, answering the DNS
look-up with the public key given on the command line (no network). Prints JSON: one object
per message with whether it verified and which headers the signature covers."""
import json
import mailbox
import sys

import dkim


def main() -> None:
    maildir, public_key_b64 = sys.argv[1], sys.argv[2]
    record = b"v=DKIM1; k=rsa; p=" + public_key_b64.encode()

    def dns(name, timeout=5):
        return record

    results = []
    for key in mailbox.Maildir(maildir, factory=None, create=False).iterkeys():
        raw = mailbox.Maildir(maildir, factory=None, create=False).get_bytes(key)
        ok = dkim.verify(raw, dnsfunc=dns)
        signature = dkim.DKIM(raw)
        tags = {}
        for name, value in signature.headers:
            if name.lower() == b"dkim-signature":
                tags = dkim.util.parse_tag_value(value)
        results.append({
            "ok": bool(ok),
            "signed_headers": tags.get(b"h", b"").decode().lower().replace(" ", "").split(":"),
        })
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
