#!/usr/bin/python3
"""tests/interop/lt_magnet.py: python3-libtorrent downloads from a magnet link (BEP 9): it
must fetch the info dict over ut_metadata from the swarm, then the data.
Usage: lt_magnet.py MAGNET SAVE_DIR IP PORT TIMEOUT_S
Plaintext only, DHT/LSD/UPnP/NAT-PMP/uTP off (REFERENCE.md s5). Prints "metadata in T s" and
"finished in T s"; exits 0 when complete, 1 on time-out or a torrent error."""

import sys
import time

import libtorrent as lt


def main():
    uri, save, ip, port, timeout = sys.argv[1:6]
    s = lt.session({
        'listen_interfaces': '%s:%s' % (ip, port),
        'outgoing_interfaces': ip,
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False,
        'enable_natpmp': False, 'enable_incoming_utp': False, 'enable_outgoing_utp': False,
        'allow_multiple_connections_per_ip': True, 'dht_bootstrap_nodes': '',
        'out_enc_policy': 2, 'in_enc_policy': 2, 'allowed_enc_level': 1,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    })
    p = lt.parse_magnet_uri(uri)
    p.save_path = save
    p.flags = (p.flags | lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd) \
        & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
    t0 = time.time()
    h = s.add_torrent(p)
    deadline = time.time() + float(timeout)
    meta = False
    st = h.status()
    while time.time() < deadline:
        st = h.status()
        if st.errc.value() != 0:
            print('error:', st.errc.message(), flush=True)
            return 1
        if st.has_metadata and not meta:
            print('metadata in %.3f s' % (time.time() - t0), flush=True)
            meta = True
        if st.is_seeding:
            print('finished in %.3f s' % (time.time() - t0), flush=True)
            time.sleep(0.5)
            return 0
        for a in s.pop_alerts():
            if a.category() & lt.alert.category_t.error_notification:
                print('alert:', a.message(), flush=True)
        time.sleep(0.1)
    print('timeout: metadata %s, state %s, progress %.3f, peers %d'
          % (st.has_metadata, st.state, st.progress, st.num_peers), flush=True)
    return 1


if __name__ == '__main__':
    sys.exit(main())
