# tests/interop/mse_lt.py: a libtorrent (python3-libtorrent) seed with MSE/PE forced, for
# tests/interop/mse.sh. Prints "ready PORT V1HASH", then obeys stdin lines "connect PORT"
# (dial 127.0.0.1:PORT) until stdin closes. Usage: python3 mse_lt.py DIR
import os, sys, time
import libtorrent as lt

d = sys.argv[1]
with open(os.path.join(d, "f.bin"), "wb") as f:
    f.write(bytes(range(256)) * 400)
fs = lt.file_storage()
lt.add_files(fs, os.path.join(d, "f.bin"))
t = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
lt.set_piece_hashes(t, d)
ti = lt.torrent_info(lt.bencode(t.generate()))
s = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False,
                'enable_upnp': False, 'enable_natpmp': False, 'enable_incoming_utp': False,
                'enable_outgoing_utp': False, 'allow_multiple_connections_per_ip': True,
                'out_enc_policy': 0, 'in_enc_policy': 0, 'allowed_enc_level': 3})
h = s.add_torrent({'ti': ti, 'save_path': d, 'flags': lt.torrent_flags.seed_mode})
for _ in range(100):
    if s.listen_port() != 0:
        break
    time.sleep(0.05)
print("ready", s.listen_port(), ti.info_hashes().v1.to_bytes().hex(), flush=True)
for line in sys.stdin:
    w = line.split()
    if len(w) == 2 and w[0] == "connect":
        h.connect_peer(("127.0.0.1", int(w[1])))
