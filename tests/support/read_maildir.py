#!/usr/bin/env python3
"""Prints the messages of a Maildir (as written by aiosmtpd's Mailbox handler) as JSON,
parsed by Python's standard email parser: one object per message with its headers (decoded),
its List-Id read as RFC 2919 structures it, and its text and HTML parts. The Rust tests read
this to check what really arrived."""
import json
import mailbox
import re
import sys
from email import _header_value_parser as rfc5322
from email import policy
from email.parser import BytesParser


def phrase_text(phrase) -> str:
    """The phrase's words as text. The parser keeps the white space between two adjacent
    encoded-words, which RFC 2047 section 6.2 says a reader must ignore (CPython gh-128110,
    fixed upstream by python/cpython#130749); this drops it, as the fixed parser does."""
    words = list(phrase)
    text = ""
    for word, following in zip(words, words[1:] + [None]):
        parts = list(word)
        if is_encoded_word(word) and is_encoded_word(following) and parts[-1].token_type == "cfws":
            parts = parts[:-1]
        text += "".join(part.value for part in parts)
    return text.strip()


def is_encoded_word(word) -> bool:
    return word is not None and word.token_type == "atom" and any(
        part.token_type == "encoded-word" for part in word
    )


def list_id(message) -> dict | None:
    """`[phrase] CFWS "<" list-id ">"`: the phrase read by the standard library's RFC 5322
    parser (quoted-strings unescaped, encoded-words decoded) and what follows it. The headers
    above are decoded as unstructured text, which neither unquotes nor notices a comma or a
    parenthesis that ends a phrase."""
    raw = next((v for n, v in message.raw_items() if n.lower() == "list-id"), None)
    if raw is None:
        return None
    rest = re.sub(r"\r?\n(?=[ \t])", "", raw).strip()
    phrase, defects = "", []
    if not rest.startswith("<"):
        token, rest = rfc5322.get_phrase(rest)
        phrase = phrase_text(token)
        defects = [type(d).__name__ for d in token.all_defects]
    return {"phrase": phrase, "rest": str(rest).strip(), "defects": defects}


def parse(raw: bytes) -> dict:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    headers = {}
    for name, value in message.items():
        headers.setdefault(name.lower(), []).append(str(value))
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return {
        "headers": headers,
        "list_id": list_id(message),
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
