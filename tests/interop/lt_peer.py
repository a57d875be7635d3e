#!/usr/bin/python3
"""tests/interop/lt_peer.py: a headless python3-libtorrent peer for the interop tests.
Usage: lt_peer.py seed|download TORRENT SAVE_DIR IP PORT TIMEOUT_S
Plaintext only (no MSE; with LT_ENC=forced in the environment: MSE with RC4 only, both
ways, plaintext refused), DHT/LSD/UPnP/NAT-PMP/uTP/PEX off (REFERENCE.md s5). Prints
"finished in T s, cpu C s (user U s, sys S s)" (wall time since the torrent was added, process
CPU time and its split) when the
torrent is complete; download mode then exits 0, seed mode keeps seeding
until SIGTERM, which prints "uploaded N" (payload bytes sent), removes the torrent (announcing
"stopped") and exits 0. Exits 1 on time-out or a torrent error. With LT_PEERS_LOG=FILE in the
environment, the peer id (hex) of every handshaked peer that disconnects is appended to FILE."""

stop = []
import resource
import signal
import sys
import time

import os

import libtorrent as lt


def log_alerts(s, peers_log):
    """Prints error alerts; appends disconnected peers' ids to |peers_log| (if set)."""
    for a in s.pop_alerts():
        if a.category() & lt.alert.category_t.error_notification:
            print('alert:', a.message(), flush=True)
        if peers_log and isinstance(a, lt.peer_disconnected_alert) and not a.pid.is_all_zeros():
            with open(peers_log, 'a') as f:
                f.write(a.pid.to_bytes().hex() + '\n')


def main():
    mode, torrent, save, ip, port, timeout = sys.argv[1:7]
    peers_log = os.environ.get('LT_PEERS_LOG')
    mask = lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
    if peers_log:
        mask |= lt.alert.category_t.connect_notification
    # enc_policy: 0 forced, 2 disabled; allowed_enc_level: 1 plaintext, 2 rc4
    enc = (0, 2) if os.environ.get('LT_ENC') == 'forced' else (2, 1)
    s = lt.session({
        'listen_interfaces': '%s:%s' % (ip, port),
        'outgoing_interfaces': ip,
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False,
        'enable_natpmp': False, 'enable_incoming_utp': False, 'enable_outgoing_utp': False,
        'allow_multiple_connections_per_ip': True, 'dht_bootstrap_nodes': '',
        'out_enc_policy': enc[0], 'in_enc_policy': enc[0], 'allowed_enc_level': enc[1],
        'prefer_rc4': enc[0] == 0,
        # Keep peers that became seeds while we had all their pieces in flight from another
        # peer: by default libtorrent drops them as "uninteresting upload-only" and, when that
        # other peer leaves, waits about a minute before it connects to anyone again.
        'close_redundant_connections': False,
        'alert_mask': mask,
    })
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(torrent)
    p.save_path = save
    p.flags = (p.flags | lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd
               | lt.torrent_flags.disable_pex) & ~lt.torrent_flags.auto_managed \
        & ~lt.torrent_flags.paused  # not auto-managed and not paused: starts at once
    t0 = time.time()
    h = s.add_torrent(p)
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    deadline = time.time() + float(timeout)
    said = False
    while time.time() < deadline:
        if stop:
            log_alerts(s, peers_log)
            print('uploaded %d' % h.status().total_payload_upload, flush=True)
            s.remove_torrent(h)  # sends the "stopped" announce
            time.sleep(1)
            return 0
        st = h.status()
        if st.errc.value() != 0:
            print('error:', st.errc.message(), flush=True)
            return 1
        if st.is_seeding and not said:
            ru = resource.getrusage(resource.RUSAGE_SELF)
            print('finished in %.3f s, cpu %.3f s (user %.3f s, sys %.3f s)'
                  % (time.time() - t0, ru.ru_utime + ru.ru_stime, ru.ru_utime, ru.ru_stime),
                  flush=True)
            said = True
            if mode == 'download':
                time.sleep(0.5)  # let the completed announce go out
                return 0
        log_alerts(s, peers_log)
        time.sleep(0.1)
    print('timeout: state %s, progress %.3f, peers %d' % (st.state, st.progress, st.num_peers),
          flush=True)
    return 1


if __name__ == '__main__':
    sys.exit(main())
