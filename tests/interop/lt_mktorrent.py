#!/usr/bin/python3
"""tests/interop/lt_mktorrent.py: a v1 torrent with BEP 47 pad files, made by python3-libtorrent
(create_torrent with v1_only | canonical_files: every file but the last padded to a piece
boundary with ".pad/N" files, attr "p"), for the pad-file interop test.
Usage: lt_mktorrent.py DIR PIECE_SIZE TRACKER_URL OUT.torrent
Prints one line: "INFO_HASH NPAD REAL_BLOCK_BYTES PAD_BLOCKS", where REAL_BLOCK_BYTES is the
sum of the lengths of the 16 KiB blocks that are not wholly inside padding (what a client that
never requests padding downloads from one seed) and PAD_BLOCKS the number of those that are."""

import os
import sys

import libtorrent as lt

BLOCK = 16384


def main():
    src, piece, url, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    src = os.path.abspath(src)
    fs = lt.file_storage()
    lt.add_files(fs, src)
    ct = lt.create_torrent(fs, piece, lt.create_torrent.v1_only | lt.create_torrent.canonical_files)
    ct.add_tracker(url)
    lt.set_piece_hashes(ct, os.path.dirname(src))
    with open(out, 'wb') as f:
        f.write(lt.bencode(ct.generate()))
    ti = lt.torrent_info(out)
    files = ti.files()
    pads = [(files.file_offset(i), files.file_size(i)) for i in range(files.num_files())
            if files.file_flags(i) & lt.file_storage.flag_pad_file]
    total = files.total_size()
    real_bytes = pad_blocks = 0
    for p in range(ti.num_pieces()):
        size = ti.piece_size(p)
        for b in range(0, size, BLOCK):
            off, n = p * piece + b, min(BLOCK, size - b)
            if any(o <= off and off + n <= o + ln for o, ln in pads):
                pad_blocks += 1
            else:
                real_bytes += n
    assert real_bytes + pad_blocks * BLOCK <= total
    print(str(ti.info_hash()), len(pads), real_bytes, pad_blocks)
    return 0


if __name__ == '__main__':
    sys.exit(main())
