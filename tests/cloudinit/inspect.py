"""Reads the base64 `user_data` Nova received (stdin) and describes it as cloud-init would see it,
with parsers nobody on this project wrote: Python's `email` package for MIME and PyYAML for
cloud-config. Prints JSON: {"multipart": bool, "parts": [{"type", "filename", "text"}],
"managed": <the managed part's cloud-config, parsed>}.
"""

import base64
import email
import email.policy
import json
import sys

import yaml


def main() -> None:
    raw = base64.b64decode(sys.stdin.read().strip())
    text = raw.decode("utf-8")
    if not text.lstrip().lower().startswith(("content-type:", "mime-version:")):
        print(json.dumps({"multipart": False, "parts": [{"type": None, "filename": None, "text": text}],
                          "managed": yaml.safe_load(text)}))
        return
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts, managed = [], None
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True).decode("utf-8")
        filename = part.get_filename()
        parts.append({"type": part.get_content_type(), "filename": filename, "text": payload})
        if filename == "unikorn-ssh-certificate-authority":
            managed = yaml.safe_load(payload)
    print(json.dumps({"multipart": message.is_multipart(), "type": message.get_content_type(),
                      "parts": parts, "managed": managed}))


if __name__ == "__main__":
    main()
