#!/usr/bin/env python3
"""Prints the messages of a Maildir (as written by aiosmtpd's Mailbox handler) as JSON,
parsed by Python's standard email parser: one object per message with its headers (decoded)
and its text and HTML parts. The Rust tests read this to check what really arrived."""
import json
import mailbox
import sys
from email import policy
from email.parser import BytesParser


def parse(raw: bytes) -> dict:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    headers = {}
    for name, value in message.items():
        headers.setdefault(name.lower(), []).append(str(value))
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return {
        "headers": headers,
        "content_type": message.get_content_type(),
        "text": text.get_content() if text is not None else None,
        "html": html.get_content() if html is not None else None,
    }


def main() -> None:
    box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
    messages = [parse(box.get_bytes(key)) for key in box.iterkeys()]
    json.dump(messages, sys.stdout)


if __name__ == "__main__":
    main()
