#!/usr/bin/python3
"""torrentkit interop helper: a scriptable libtorrent peer (Debian python3-libtorrent 2.0.x).

Run it with Debian's /usr/bin/python3: other pythons on PATH (pyenv) cannot import libtorrent.

Loopback-safe: DHT, LSD, UPnP and NAT-PMP are OFF and the DHT bootstrap list is empty (libtorrent's
defaults would reach the internet; --lsd turns LSD on, multicast on the listen interface without subnet
broadcast: use it only inside the loopback-only namespace); several connections per IP are allowed
(everything is 127.0.0.1);
the transport is TCP only unless --transport says otherwise (libtorrent prefers uTP, which is ~10x slower
on loopback).

  make  --root DIR_OR_FILE --torrent OUT [--piece-size N] [--tracker URL]...
        v1-only torrent of DIR_OR_FILE (the torrent's name is its basename). Prints one JSON line:
        {"event":"made","infohash":..,"pieces":..,"piece_size":..,"total_size":..,"files":..}
  run   --listen 127.0.0.1:PORT (PORT 0: any; the "listening" event says which)
        (--seed T --data DIR [--no-seed-mode] | --download T --save DIR | --magnet URI --save DIR)
        [--peer HOST:PORT]... [--until finished|never] [--timeout S] [--upload-limit BPS]
        [--encryption enabled|disabled|forced] [--transport tcp|utp|both] [--set key=value]...
        [--lsd [--lsd-interval S]] [--pex] [--limit-local]
        --magnet downloads from a magnet link (metadata from peers first, BEP 9); --pex enables BEP 11 peer
        exchange for the torrent (off by default). --limit-local makes the rate limits bind on loopback
        peers too (libtorrent exempts local peers by default).
        Prints one JSON object per line: session, listening, torrent_added, peer_connected,
        peer_disconnected, lsd_peer (with --lsd), status (every --stats-interval s), hash_failed,
        torrent_error, file_error, finished (with seconds since the torrent was added), until_met, timeout.

Exit status: 0 when --until is met (or --until never reaches its timeout / SIGTERM), 1 on timeout or a
torrent error, 2 on usage errors.
"""
import argparse
import json
import os
import re
import signal
import sys
import time
import warnings

import libtorrent as lt

warnings.filterwarnings("ignore", category=DeprecationWarning)

T0 = time.time()


def emit(event, **kw):
    row = {"t": round(time.time() - T0, 3), "event": event}
    row.update(kw)
    sys.stdout.write(json.dumps(row, default=str) + "\n")
    sys.stdout.flush()


def cmd_make(a):
    root = os.path.abspath(a.root)
    fs = lt.file_storage()
    lt.add_files(fs, root)
    if fs.num_files() == 0:
        emit("error", msg="no files under " + root)
        return 2
    ct = lt.create_torrent(fs, a.piece_size, flags=0 if a.hybrid else lt.create_torrent.v1_only)
    for tier, url in enumerate(a.tracker or []):
        ct.add_tracker(url, tier)
    ct.set_creator("torrentkit-interop lt-peer.py")
    lt.set_piece_hashes(ct, os.path.dirname(root))
    with open(a.torrent, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    ti = lt.torrent_info(a.torrent)
    emit("made", torrent=a.torrent, infohash=str(ti.info_hash()), pieces=ti.num_pieces(),
         piece_size=ti.piece_length(), total_size=ti.total_size(), files=ti.num_files(), name=ti.name())
    return 0


def settings(a):
    s = {
        "listen_interfaces": a.listen,
        "outgoing_interfaces": "",
        "enable_dht": False,
        "enable_lsd": bool(a.lsd),
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_bootstrap_nodes": "",
        "broadcast_lsd": False,
        "local_service_announce_interval": a.lsd_interval,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": (lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
                       | lt.alert.category_t.connect_notification | lt.alert.category_t.peer_notification
                       | lt.alert.category_t.storage_notification | lt.alert.category_t.tracker_notification),
        "alert_queue_size": 100000,
        "user_agent": "torrentkit-interop/libtorrent-" + lt.__version__,
        # quick on loopback
        "min_reconnect_time": 1,
        "peer_connect_timeout": 3,
        "connection_speed": 50,
        "tick_interval": 100,
        "close_redundant_connections": False,
        "auto_manage_startup": 1,
    }
    if a.transport == "tcp":
        s.update(enable_outgoing_tcp=True, enable_incoming_tcp=True,
                 enable_outgoing_utp=False, enable_incoming_utp=False)
    elif a.transport == "utp":
        s.update(enable_outgoing_tcp=False, enable_incoming_tcp=False,
                 enable_outgoing_utp=True, enable_incoming_utp=True)
    if a.encryption == "disabled":
        s.update(out_enc_policy=int(lt.enc_policy.disabled), in_enc_policy=int(lt.enc_policy.disabled))
    elif a.encryption == "forced":
        s.update(out_enc_policy=int(lt.enc_policy.forced), in_enc_policy=int(lt.enc_policy.forced),
                 allowed_enc_level=int(lt.enc_level.rc4))
    for kv in a.set or []:
        k, v = kv.split("=", 1)
        if v.lower() in ("true", "false"):
            v = v.lower() == "true"
        else:
            try:
                v = int(v)
            except ValueError:
                pass
        s[k] = v
    return s


def cmd_run(a):
    if (bool(a.seed) + bool(a.download) + bool(a.magnet)) != 1:
        emit("error", msg="give exactly one of --seed, --download or --magnet")
        return 2
    stop = {"sig": None}

    def on_signal(signum, _frame):
        stop["sig"] = signum

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ses = lt.session(settings(a))
    if a.limit_local:
        # libtorrent puts loopback/LAN peers in its local peer class, exempt from rate limits: put every
        # address in the global class so --upload-limit / upload_rate_limit bind on 127.0.0.1 too.
        f = lt.ip_filter()
        f.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
        f.add_rule("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 << lt.session.global_peer_class_id)
        ses.set_peer_class_filter(f)
    emit("session", version=lt.__version__, pid=os.getpid(), listen=a.listen, transport=a.transport)

    if a.magnet:
        atp = lt.parse_magnet_uri(a.magnet)
        try:
            ih = str(atp.info_hashes.v1)
        except AttributeError:
            ih = str(atp.info_hash)
    else:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(a.seed or a.download)
        ih = str(atp.ti.info_hash())
    atp.save_path = os.path.abspath(a.data if a.seed else a.save)
    os.makedirs(atp.save_path, exist_ok=True)
    flags = atp.flags
    flags &= ~lt.torrent_flags.auto_managed
    flags &= ~lt.torrent_flags.paused
    flags |= lt.torrent_flags.disable_dht
    if not a.pex:
        flags |= lt.torrent_flags.disable_pex
    if not a.lsd:
        flags |= lt.torrent_flags.disable_lsd
    if a.seed and a.seed_mode:
        flags |= lt.torrent_flags.seed_mode
    atp.flags = flags
    if a.upload_limit:
        atp.upload_limit = a.upload_limit
    if a.download_limit:
        atp.download_limit = a.download_limit
    h = ses.add_torrent(atp)
    t_added = time.time()
    if a.magnet:
        emit("torrent_added", role="magnet", infohash=ih, save=atp.save_path)
    else:
        emit("torrent_added", role="seed" if a.seed else "download", infohash=ih,
             pieces=atp.ti.num_pieces(), piece_size=atp.ti.piece_length(), total_size=atp.ti.total_size(),
             save=atp.save_path)

    peers = []
    for p in a.peer or []:
        host, port = p.rsplit(":", 1)
        peers.append((host.strip("[]"), int(port)))

    finished = False
    failed = None
    deadline = T0 + a.timeout
    next_connect = time.time()
    next_stats = time.time() + a.stats_interval
    rc = None
    while rc is None:
        now = time.time()
        if stop["sig"] is not None:
            emit("signal", signal=stop["sig"])
            rc = 0 if a.until == "never" else 1
            break
        if now >= deadline:
            emit("timeout", until=a.until)
            rc = 0 if a.until == "never" else 1
            break
        ses.wait_for_alert(100)
        for al in ses.pop_alerts():
            w = al.what()
            if w == "listen_succeeded":
                emit("listening", socket_type=str(al.socket_type).split(".")[-1], port=al.port, address=str(al.address))
            elif w == "listen_failed":
                emit("listen_failed", msg=al.message())
                failed = "listen_failed"
            elif w == "peer_connect" or w == "incoming_connection":
                emit(w, msg=al.message())
            elif w == "lsd_peer":
                # The Debian binding has no lsd_peer_alert class (a bare alert): the peer is in the message,
                # "<name> peer [ 127.0.0.1:7000 client: ... ] ...".
                m = re.search(r"\[ (\S+) ", al.message())
                emit("lsd_peer", ip=m.group(1) if m else None, infohash=ih, msg=al.message())
            elif w == "peer_disconnected":
                emit("peer_disconnected", msg=al.message())
            elif w == "peer_error":
                emit("peer_error", msg=al.message())
            elif w == "hash_failed":
                emit("hash_failed", piece=al.piece_index, msg=al.message())
            elif w in ("torrent_error", "file_error"):
                emit(w, msg=al.message())
                failed = w
            elif w == "torrent_finished":
                if not finished:
                    finished = True
                    ts = h.status()
                    emit("finished", seconds=round(time.time() - t_added, 3), down=ts.total_payload_download,
                         up=ts.total_payload_upload)
            elif w in ("tracker_reply", "tracker_error", "tracker_warning", "scrape_reply", "scrape_failed"):
                emit(w, url=getattr(al, "url", ""), msg=al.message())
            elif w == "metadata_received":
                emit(w, msg=al.message())
            elif w in ("peer_ban", "peer_blocked", "torrent_checked", "state_changed", "metadata_failed",
                       "storage_moved_failed", "fastresume_rejected"):
                emit(w, msg=al.message())
        now = time.time()
        if peers and now >= next_connect:
            for ep in peers:
                h.connect_peer(ep, 0)
            next_connect = now + a.reconnect
        if now >= next_stats:
            next_stats = now + a.stats_interval
            ts = h.status()
            emit("status", state=str(ts.state).split(".")[-1], progress=round(ts.progress, 4),
                 pieces=ts.num_pieces, peers=ts.num_peers, down=ts.total_payload_download,
                 up=ts.total_payload_upload, down_rate=ts.download_payload_rate, up_rate=ts.upload_payload_rate,
                 peer_list=[f"{p.ip[0]}:{p.ip[1]}" for p in h.get_peer_info()])
        if failed and a.until != "never":
            rc = 1
        elif a.until == "finished" and finished:
            emit("until_met", until=a.until)
            rc = 0
    ts = h.status()
    emit("exit", rc=rc, progress=round(ts.progress, 4), down=ts.total_payload_download, up=ts.total_payload_upload)
    return rc


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--root", required=True)
    m.add_argument("--torrent", required=True)
    m.add_argument("--piece-size", type=int, default=262144)
    m.add_argument("--tracker", action="append")
    m.add_argument("--hybrid", action="store_true", help="v1+v2 hybrid (BEP 52) with BEP 47 pad files")
    r = sub.add_parser("run")
    r.add_argument("--listen", default="127.0.0.1:0")
    r.add_argument("--seed")
    r.add_argument("--data", default=".")
    r.add_argument("--no-seed-mode", dest="seed_mode", action="store_false",
                   help="hash-check the data before seeding (default: seed_mode, verify lazily)")
    r.add_argument("--download")
    r.add_argument("--save", default="./dl")
    r.add_argument("--magnet", help="download from this magnet link (use --peer to give peers)")
    r.add_argument("--pex", action="store_true", help="enable BEP 11 peer exchange for the torrent")
    r.add_argument("--peer", action="append", help="HOST:PORT to dial (repeatable; re-dialed every --reconnect s)")
    r.add_argument("--reconnect", type=float, default=2.0)
    r.add_argument("--until", choices=["finished", "never"], default="never")
    r.add_argument("--timeout", type=float, default=120)
    r.add_argument("--upload-limit", type=int, default=0, help="bytes/s for this torrent (0: unlimited)")
    r.add_argument("--download-limit", type=int, default=0, help="bytes/s for this torrent (0: unlimited)")
    r.add_argument("--limit-local", action="store_true",
                   help="apply the rate limits to loopback/LAN peers too (libtorrent exempts them by default)")
    r.add_argument("--transport", choices=["tcp", "utp", "both"], default="tcp")
    r.add_argument("--encryption", choices=["enabled", "disabled", "forced"], default="enabled")
    r.add_argument("--stats-interval", type=float, default=1.0)
    r.add_argument("--set", action="append", help="extra settings_pack key=value (repeatable)")
    r.add_argument("--lsd", action="store_true", help="enable Local Service Discovery (BEP 14; loopback namespace only)")
    r.add_argument("--lsd-interval", type=int, default=5, help="local_service_announce_interval (s) with --lsd")
    a = p.parse_args()
    return cmd_make(a) if a.cmd == "make" else cmd_run(a)


if __name__ == "__main__":
    sys.exit(main())
