#!/usr/bin/env python3
"""Verifies the DKIM signature of every message in a Maildir with dkimpy, answering the DNS
look-up with the public key given on the command line (no network). Prints JSON: one object
per message with whether it verified, which headers the signature covers, and, for each
header name given after the key, whether it still verifies once a second copy of that header
is put at the top of the message, as a relay (or an attacker on the way) would add it."""
import json
import mailbox
import sys

import dkim

# What the added copy says: something a reader would act on instead of the signed one.
FORGED = {
    "from": b"From: Mallory <mallory@forged.example>",
    "subject": b"Subject: Your account is closed",
    "list-id": b"List-Id: Forged <forged.example>",
    "list-unsubscribe": b"List-Unsubscribe: <https://forged.example/u/x>",
    "list-unsubscribe-post": b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    # Not a header we sign: adding it must leave the signature valid (the control).
    "x-relayed-by": b"X-Relayed-By: relay.forged.example",
}


def main() -> None:
    maildir, public_key_b64, added = sys.argv[1], sys.argv[2], sys.argv[3:]
    record = b"v=DKIM1; k=rsa; p=" + public_key_b64.encode()

    def dns(name, timeout=5):
        return record

    def verifies(raw: bytes) -> bool:
        return bool(dkim.verify(raw, dnsfunc=dns))

    box = mailbox.Maildir(maildir, factory=None, create=False)
    results = []
    for key in box.iterkeys():
        raw = box.get_bytes(key)
        signature = dkim.DKIM(raw)
        tags = {}
        for name, value in signature.headers:
            if name.lower() == b"dkim-signature":
                tags = dkim.util.parse_tag_value(value)
        newline = b"\r\n" if b"\r\n" in raw else b"\n"
        results.append({
            "ok": verifies(raw),
            "signed_headers": tags.get(b"h", b"").decode().lower().replace(" ", "").split(":"),
            "with_a_second": {name: verifies(FORGED[name] + newline + raw) for name in added},
        })
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
