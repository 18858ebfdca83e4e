"""Text of legacy Word 97-2003 (.doc) files and the WPS files that share their format, in pure Python.

Older government portals attach reports as .doc; antiword/catdoc are seldom installed, so the main text is
read here from the piece table ([MS-DOC] 2.4.1): the FIB gives the main text length (ccpText) and where
the Clx sits in the table stream; each piece of the Clx maps a run of characters either to 8-bit
"compressed" bytes (cp1252) or to UTF-16LE, which is how Word stores Chinese. Field codes (HYPERLINK …)
are dropped and their displayed result kept. Encrypted files and other OLE files raise WordDocError.
"""

from __future__ import annotations

import io
import re
import struct

import olefile

_WIDENT = 0xA5EC
_FLAG_ENCRYPTED = 0x0100
_FLAG_TABLE1 = 0x0200  # fWhichTblStm: the table stream is 1Table, else 0Table
_OFF_FLAGS, _OFF_CCP_TEXT, _OFF_FC_CLX = 0x000A, 0x004C, 0x01A2
_FIELD_BEGIN, _FIELD_SEPARATOR, _FIELD_END = "\x13", "\x14", "\x15"
# paragraph and cell marks, line, page and section breaks become line ends; hyphen codes become text;
# object anchors and other control characters go
_CONTROL = str.maketrans({"\r": "\n", "\x07": "\n", "\x0b": "\n", "\x0c": "\n", "\x1e": "-", "\x1f": None,
                          **{chr(c): None for c in range(0x20) if chr(c) not in "\r\n\t\x07\x0b\x0c\x1e\x1f"}})
_BLANKS = re.compile(r"\n{2,}")


class WordDocError(ValueError):
    """The file is not a readable Word 97-2003 document (not OLE, no WordDocument stream, encrypted, bad
    piece table)."""


def _pieces(table: bytes, fc_clx: int, lcb_clx: int) -> list[tuple[int, int, int, bool]]:
    """(cp_start, cp_end, byte offset, compressed) for every piece of the Clx."""
    clx = table[fc_clx:fc_clx + lcb_clx]
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # Prc: property modifiers, skipped
        (size,) = struct.unpack_from("<H", clx, pos + 1)
        pos += 3 + size
    if pos + 5 > len(clx) or clx[pos] != 0x02:
        raise WordDocError("no piece table (Pcdt) in the Clx")
    (lcb,) = struct.unpack_from("<I", clx, pos + 1)
    plc = clx[pos + 5:pos + 5 + lcb]
    count = (len(plc) - 4) // 12
    if count < 1 or len(plc) < 4 + 12 * count:
        raise WordDocError("truncated piece table")
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    pieces = []
    for i in range(count):
        (fc,) = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * i + 2)
        compressed = bool(fc & 0x40000000)
        offset = (fc & 0x3FFFFFFF) // 2 if compressed else fc & 0x3FFFFFFF
        pieces.append((cps[i], cps[i + 1], offset, compressed))
    return pieces


def _drop_field_codes(text: str) -> str:
    """Keep what a field displays (between separator and end), drop its instructions; fields nest."""
    out, stack = [], []  # stack: for each open field, whether we are past its separator
    for char in text:
        if char == _FIELD_BEGIN:
            stack.append(False)
        elif char == _FIELD_SEPARATOR and stack:
            stack[-1] = True
        elif char == _FIELD_END and stack:
            stack.pop()
        elif all(stack):
            out.append(char)
    return "".join(out)


def word97_text(data: bytes) -> str:
    """The main document text of a .doc (or OLE .wps) file, one paragraph per line."""
    if not olefile.isOleFile(io.BytesIO(data)):
        raise WordDocError("not an OLE2 compound file")
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if not ole.exists("WordDocument"):
                raise WordDocError("no WordDocument stream (not a Word 97-2003 file)")
            word = ole.openstream("WordDocument").read()
            if len(word) < _OFF_FC_CLX + 8:
                raise WordDocError("WordDocument stream too short for a Word 97 FIB")
            ident, = struct.unpack_from("<H", word, 0)
            flags, = struct.unpack_from("<H", word, _OFF_FLAGS)
            if ident != _WIDENT:
                raise WordDocError("not a Word 97-2003 file (older Word 6/95 format or other)")
            if flags & _FLAG_ENCRYPTED:
                raise WordDocError("the document is encrypted")
            table_name = "1Table" if flags & _FLAG_TABLE1 else "0Table"
            if not ole.exists(table_name):
                raise WordDocError(f"table stream {table_name} missing")
            table = ole.openstream(table_name).read()
    except (OSError, ValueError, struct.error) as exc:  # olefile's errors on damaged files
        if isinstance(exc, WordDocError):
            raise
        raise WordDocError(f"damaged OLE file: {exc}") from None
    ccp_text, = struct.unpack_from("<I", word, _OFF_CCP_TEXT)
    fc_clx, lcb_clx = struct.unpack_from("<II", word, _OFF_FC_CLX)
    parts = []
    for cp_start, cp_end, offset, compressed in _pieces(table, fc_clx, lcb_clx):
        if cp_start >= ccp_text:  # footnotes, headers, comments follow the main text
            break
        count = min(cp_end, ccp_text) - cp_start
        if compressed:
            parts.append(word[offset:offset + count].decode("cp1252", "replace"))
        else:
            parts.append(word[offset:offset + 2 * count].decode("utf-16-le", "replace"))
    text = _drop_field_codes("".join(parts)).translate(_CONTROL)
    return _BLANKS.sub("\n", text).strip()
