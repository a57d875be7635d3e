# tests/interop/mse_lt.py: libtorrent (python3-libtorrent) peers with MSE/PE forced, for
# tests/interop/mse.sh. A seed writes DIR/t.torrent and prints "ready PORT V1HASH" and
# "magnet URI"; then stdin lines are obeyed until stdin closes: "connect PORT" (the seed dials
# 127.0.0.1:PORT) and "fetchmeta PORT" (a second session adds the magnet link, dials PORT and
# prints "meta ok NAME" once it has the metadata, or "meta fail"). Usage: mse_lt.py DIR
import os, sys, time
import libtorrent as lt

d = sys.argv[1]
with open(os.path.join(d, "f.bin"), "wb") as f:
    f.write(bytes(range(256)) * 65536)  # 16 MiB in 1024 pieces: a 2-piece info dict
fs = lt.file_storage()
lt.add_files(fs, os.path.join(d, "f.bin"))
t = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
t.add_tracker("http://127.0.0.1:1/announce")
lt.set_piece_hashes(t, d)
raw = lt.bencode(t.generate())
with open(os.path.join(d, "t.torrent"), "wb") as f:
    f.write(raw)
ti = lt.torrent_info(raw)
cfg = {'alert_mask': lt.alert.category_t.all_categories, 'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False,
       'enable_upnp': False, 'enable_natpmp': False, 'enable_incoming_utp': False,
       'enable_outgoing_utp': False, 'allow_multiple_connections_per_ip': True,
       'out_enc_policy': 0, 'in_enc_policy': 0, 'allowed_enc_level': 3}
s = lt.session(cfg)
h = s.add_torrent({'ti': ti, 'save_path': d, 'flags': lt.torrent_flags.seed_mode})
for _ in range(100):
    if s.listen_port() != 0:
        break
    time.sleep(0.05)
print("ready", s.listen_port(), ti.info_hashes().v1.to_bytes().hex(), flush=True)
print("magnet", lt.make_magnet_uri(ti), flush=True)


def fetchmeta(port):
    s2 = lt.session(cfg)
    p = lt.parse_magnet_uri(lt.make_magnet_uri(ti))
    p.save_path = os.path.join(d, "dl")
    h2 = s2.add_torrent(p)
    h2.connect_peer(("127.0.0.1", port))
    end = time.time() + 15
    while time.time() < end and not h2.status().has_metadata:
        for a in s2.pop_alerts():
            print("lt2:", a.message(), file=sys.stderr, flush=True)
        time.sleep(0.1)
    st = h2.status()
    print("meta", "ok" if st.has_metadata else "fail", st.name, flush=True)


for line in sys.stdin:
    w = line.split()
    if len(w) == 2 and w[0] == "connect":
        h.connect_peer(("127.0.0.1", int(w[1])))
    elif len(w) == 2 and w[0] == "fetchmeta":
        fetchmeta(int(w[1]))
