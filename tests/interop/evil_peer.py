#!/usr/bin/python3
"""tests/interop/evil_peer.py: a hostile BitTorrent peer for tests/interop/live_evil.sh
(Python 3 stdlib sockets, plaintext BEP 3 only, no extensions).
Usage: evil_peer.py MODE BIND_IP INFO_HASH_HEX NPIECES [VICTIM_PORT]
Listens on BIND_IP (an ephemeral port, printed as "listening PORT") and answers every
connection with a real handshake and, except in badbitfield mode, a bitfield claiming every
piece. Then, by MODE:
  corrupt      unchokes and answers every request with wrong bytes; when the victim drops
               the connection, dials VICTIM_PORT on 127.0.0.1 from BIND_IP once and reports
               whether the victim answered the handshake ("redial accepted") or not
               ("redial refused")
  huge         sends a length prefix of 0x7fffffff followed by garbage
  badbitfield  sends a bitfield three bytes too long
  badpiece     unchokes and answers the first request with a piece whose index is past the
               last piece
  unknown      sends a message with the unassigned id 99 (which must be ignored), waits a
               second, then a 'have' message with a 9-byte payload (which must not be)
One line per event on stdout, flushed: "accepted N from IP:PORT", "served N K" (block K on
connection N), "sent N WHAT", "closed N by victim after K blocks", "open N after 5 s",
"redial refused|accepted". Runs until killed."""

import socket
import struct
import sys
import threading
import time

PSTR = b'\x13BitTorrent protocol'
lock = threading.Lock()
peer_id = b''  # '-EV0001-' and the mode: one per hostile peer (set in main)


def say(*words):
    with lock:
        print(*words, flush=True)


def msg(mid, payload=b''):
    return struct.pack('>IB', 1 + len(payload), mid) + payload


def handshake(info_hash):
    return PSTR + bytes(8) + info_hash + peer_id


def read_exact(sock, n):
    data = b''
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_msg(sock):
    """The next message as (id, payload), (None, b'') for a keep-alive, None at EOF."""
    head = read_exact(sock, 4)
    if head is None:
        return None
    n = struct.unpack('>I', head)[0]
    if n == 0:
        return (None, b'')
    if n > (1 << 20):
        return None
    body = read_exact(sock, n)
    return None if body is None else (body[0], body[1:])


def closed_within(sock, seconds):
    """True when the victim closes (or resets) the connection within |seconds|; what it
    sends meanwhile is read and dropped."""
    sock.settimeout(seconds)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            if not sock.recv(65536):
                return True
    except socket.timeout:
        return False
    except OSError:
        return True
    return False


def serve(conn, n, mode, info_hash, npieces, bits):
    blocks = 0
    try:
        conn.settimeout(30)
        theirs = read_exact(conn, 68)
        if theirs is None or theirs[:20] != PSTR or theirs[28:48] != info_hash:
            say('closed', n, 'bad handshake from victim')
            return
        conn.sendall(handshake(info_hash))
        if mode == 'badbitfield':
            conn.sendall(msg(5, bits + b'\0\0\0'))
            say('sent', n, 'bitfield', len(bits) + 3, 'bytes for', npieces, 'pieces')
        else:
            conn.sendall(msg(5, bits))
        if mode == 'huge':
            conn.sendall(struct.pack('>I', 0x7fffffff) + bytes(range(256)) * 4)
            say('sent', n, 'length prefix 0x7fffffff')
        elif mode == 'unknown':
            conn.sendall(msg(99, b'garbage garbage!'))
            say('sent', n, 'unknown id 99')
            if closed_within(conn, 1.0):
                say('closed', n, 'by victim after the unknown id')
                return
            say('open', n, 'after the unknown id')
            conn.sendall(msg(4, struct.pack('>IIB', 1, 2, 3)))
            say('sent', n, 'have with a 9-byte payload')
        if mode in ('corrupt', 'badpiece'):
            conn.sendall(msg(1))  # unchoke
            while True:
                m = read_msg(conn)
                if m is None:
                    break
                if m[0] != 6 or len(m[1]) != 12:
                    continue
                index, begin, length = struct.unpack('>III', m[1])
                if mode == 'badpiece':
                    conn.sendall(msg(7, struct.pack('>II', npieces + 7, begin) + bytes(length)))
                    say('sent', n, 'piece with index', npieces + 7)
                    break
                wrong = bytes((index * 31 + begin + k) & 0xff ^ 0xa5 for k in range(length))
                conn.sendall(msg(7, struct.pack('>II', index, begin) + wrong))
                blocks += 1
                say('served', n, blocks)
        if closed_within(conn, 5.0):
            say('closed', n, 'by victim after', blocks, 'blocks')
        else:
            say('open', n, 'after 5 s')
    except OSError as e:
        say('closed', n, 'by victim after', blocks, 'blocks (%s)' % e.__class__.__name__)
    finally:
        conn.close()


def redial(ip, port, info_hash):
    """Dials the victim from |ip| as a new peer would and reports whether it answers."""
    s = socket.socket()
    try:
        s.bind((ip, 0))
        s.settimeout(5)
        s.connect(('127.0.0.1', port))
        s.sendall(handshake(info_hash))
        reply = read_exact(s, 68)
        say('redial', 'accepted' if reply is not None and reply[:20] == PSTR else 'refused')
    except OSError as e:
        say('redial', 'refused', '(%s)' % e.__class__.__name__)
    finally:
        s.close()


def main():
    mode, ip, ih_hex, npieces = sys.argv[1:5]
    victim_port = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    info_hash, npieces = bytes.fromhex(ih_hex), int(npieces)
    global peer_id
    peer_id = b'-EV0001-' + mode.encode()[:12].ljust(12, b'0')
    bits = bytearray((npieces + 7) // 8)
    for i in range(npieces):
        bits[i // 8] |= 0x80 >> (i % 8)
    lis = socket.socket()
    lis.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lis.bind((ip, 0))
    lis.listen(8)
    say('listening', lis.getsockname()[1])
    n = 0
    while True:
        conn, addr = lis.accept()
        n += 1
        say('accepted', n, 'from %s:%d' % addr)
        if mode == 'corrupt' and victim_port:
            def run(c=conn, k=n):
                serve(c, k, mode, info_hash, npieces, bytes(bits))
                redial(ip, victim_port, info_hash)
        else:
            def run(c=conn, k=n):
                serve(c, k, mode, info_hash, npieces, bytes(bits))
        threading.Thread(target=run, daemon=True).start()


if __name__ == '__main__':
    main()
