# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Traffic with provable integrity, carried in pcap files.

Each generated frame is Ethernet/IPv4/UDP with a payload that starts with
a magic, a stream id, a sequence number and a CRC32 of the rest of the
frame, then pseudo-random bytes.  verify() reads what came back and says,
per stream, how many frames arrived intact, corrupted, duplicated, lost or
out of order.
"""

import random
import struct
import zlib

MAGIC = 0x5649524F  # "VIRO"
HDR = struct.Struct(">IHIIH")  # magic, stream, seq, crc32, length
PCAP_GLOBAL = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def _ipv4_udp(frame_len, stream, src_mac, dst_mac):
    ip_len = frame_len - 14
    udp_len = ip_len - 20
    eth = dst_mac + src_mac + b"\x08\x00"
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 1, stream & 0xff]))
    csum = 0
    for i in range(0, 20, 2):
        csum += (ip[i] << 8) | ip[i + 1]
    while csum >> 16:
        csum = (csum & 0xFFFF) + (csum >> 16)
    ip = ip[:10] + struct.pack(">H", ~csum & 0xFFFF) + ip[12:]
    udp = struct.pack(">HHHH", 1024 + stream, 2048, udp_len, 0)
    return eth + ip + udp


def make_frame(stream, seq, frame_len, rng,
               src_mac=b"\x02\x00\x00\x00\x00\x01",
               dst_mac=b"\x02\x00\x00\x00\x00\x02"):
    head = _ipv4_udp(frame_len, stream, src_mac, dst_mac)
    body_len = frame_len - len(head) - HDR.size
    body = bytes(rng.getrandbits(8) for _ in range(body_len)) if body_len > 0 else b""
    crc = zlib.crc32(struct.pack(">HI", stream, seq) + body)
    return head + HDR.pack(MAGIC, stream, seq, crc, frame_len) + body


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(PCAP_GLOBAL)
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000,
                                len(frame), len(frame)))
            f.write(frame)


def read_pcap(path):
    frames = []
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return frames
    magic = struct.unpack_from("<I", data)[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    pos = 24
    while pos + 16 <= len(data):
        _s, _us, incl, _orig = struct.unpack_from(endian + "IIII", data, pos)
        pos += 16
        frames.append(data[pos:pos + incl])
        pos += incl
    return frames


def generate(path, count, sizes, streams=1, seed=1):
    """Write @count frames cycling through @sizes; return the frames."""
    rng = random.Random(seed)
    frames = []
    for i in range(count):
        stream = i % streams
        frames.append(make_frame(stream, i // streams, sizes[i % len(sizes)], rng))
    write_pcap(path, frames)
    return frames


def parse(frame):
    """(stream, seq) of an intact frame, or None if corrupted/foreign."""
    off = 14 + 20 + 8
    if len(frame) < off + HDR.size:
        return None
    magic, stream, seq, crc, length = HDR.unpack_from(frame, off)
    if magic != MAGIC or length != len(frame):
        return None
    body = frame[off + HDR.size:]
    if zlib.crc32(struct.pack(">HI", stream, seq) + body) != crc:
        return None
    return stream, seq


def verify(sent, received, ignore_macs=True):
    """Compare frames: every received frame must be byte-identical to the
    sent frame with its (stream, seq), apart from the MAC addresses when
    @ignore_macs (a mac-forwarding peer rewrites them)."""
    by_key = {}
    for frame in sent:
        by_key[parse(frame)] = frame
    report = {"sent": len(sent), "received": len(received), "intact": 0,
              "corrupted": 0, "duplicated": 0, "reordered": 0, "lost": 0}
    seen = set()
    last_seq = {}
    for frame in received:
        key = parse(frame)
        ref = by_key.get(key)
        if key is None or ref is None or \
                (frame[12:] if ignore_macs else frame) != \
                (ref[12:] if ignore_macs else ref):
            report["corrupted"] += 1
            continue
        if key in seen:
            report["duplicated"] += 1
            continue
        seen.add(key)
        stream, seq = key
        if seq < last_seq.get(stream, -1):
            report["reordered"] += 1
        last_seq[stream] = seq
        report["intact"] += 1
    report["lost"] = len(sent) - len(seen)
    report["ok"] = (report["corrupted"] == 0 and report["duplicated"] == 0
                    and report["reordered"] == 0 and report["lost"] == 0)
    return report
