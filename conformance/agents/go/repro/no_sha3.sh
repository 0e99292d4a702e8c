#!/bin/sh
# CHAN-AUTH-4: Go's standard library before 1.24 has no SHA-3, so a {sha3_256} or {sha3_384}
# answer cannot be verified with it.
if go doc crypto/sha3 >/dev/null 2>&1; then echo "NOT REPRODUCED: crypto/sha3 exists ($(go version))"; exit 1; fi
echo "REPRODUCED: no crypto/sha3 in the standard library of $(go version | cut -d' ' -f3)"
