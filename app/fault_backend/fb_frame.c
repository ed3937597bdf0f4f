/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Integrity frames, the format of app/test/system/integrity.py:
 * Ethernet/IPv4/UDP, then magic, stream, sequence, CRC32 of (stream,
 * seq, body) and the frame length, big endian, then the body. Here the
 * body is a function of (stream, seq), so a frame that comes back is
 * compared byte for byte with the one that was sent, headers included.
 */

#include <string.h>

#include "fault_backend.h"

#define FB_MAGIC	0x5649524fu	/* "VIRO" */
#define FB_L2L3L4	42		/* Ethernet 14 + IPv4 20 + UDP 8 */
#define FB_HDR		16		/* magic 4, stream 2, seq 4, crc 4, len 2 */

static uint32_t fb_crc_table[256];

static void
fb_crc_init(void)
{
	uint32_t c, n, k;

	for (n = 0; n < 256; n++) {
		c = n;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		fb_crc_table[n] = c;
	}
}

/* zlib's crc32(): chainable, 0 to start. */
uint32_t
fb_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	if (fb_crc_table[1] == 0)
		fb_crc_init();
	crc = ~crc;
	while (n-- > 0)
		crc = fb_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void
fb_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
fb_put32(uint8_t *p, uint32_t v)
{
	fb_put16(p, v >> 16);
	fb_put16(p + 2, v & 0xffff);
}

static uint32_t
fb_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static uint16_t
fb_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Frame len (>= 64) of stream/seq into out. */
void
fb_frame_build(uint8_t *out, uint32_t len, uint16_t stream, uint32_t seq)
{
	static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 2 };
	static const uint8_t src[6] = { 2, 0, 0, 0, 0, 1 };
	uint32_t ip_len = len - 14, sum = 0, x, i;
	uint8_t *ip = out + 14, *udp = ip + 20, *h = udp + 8;
	uint8_t key[6];

	memcpy(out, dst, 6);
	memcpy(out + 6, src, 6);
	fb_put16(out + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	fb_put16(ip + 2, ip_len);
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 10;
	ip[15] = 1;
	ip[16] = 10;
	ip[18] = 1;
	ip[19] = stream & 0xff;
	for (i = 0; i < 20; i += 2)
		sum += fb_get16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	fb_put16(ip + 10, ~sum & 0xffff);
	fb_put16(udp, 1024 + stream);
	fb_put16(udp + 2, 2048);
	fb_put16(udp + 4, ip_len - 20);
	fb_put16(udp + 6, 0);
	/* the body: xorshift32 from the frame's identity */
	x = (uint32_t)stream * 0x9e3779b1u ^ seq ^ 0x5bd1e995u;
	for (i = FB_L2L3L4 + FB_HDR; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		out[i] = (uint8_t)x;
	}
	fb_put16(key, stream);
	fb_put32(key + 2, seq);
	fb_put32(h, FB_MAGIC);
	fb_put16(h + 4, stream);
	fb_put32(h + 6, seq);
	fb_put32(h + 10, fb_crc32(fb_crc32(0, key, sizeof(key)),
				  out + FB_L2L3L4 + FB_HDR,
				  len - FB_L2L3L4 - FB_HDR));
	fb_put16(h + 14, len);
}

/* Judge one frame that came back from the driver on a Tx ring. */
void
fb_frame_check(struct fb *fb, const uint8_t *frame, uint32_t len)
{
	static uint8_t want[FB_MAX_FRAME];
	const uint8_t *h = frame + FB_L2L3L4;
	struct fb_stream *s;
	uint16_t stream;
	uint32_t seq;

	if (len < FB_L2L3L4 + FB_HDR || fb_get32(h) != FB_MAGIC) {
		/* not one of ours at all: count it on the first pair */
		fb->streams[0].alien++;
		return;
	}
	stream = fb_get16(h + 4);
	seq = fb_get32(h + 6);
	s = stream >= fb->stream_base && stream < fb->stream_base + fb->pairs ?
		&fb->streams[stream - fb->stream_base] : NULL;
	/* the length field first: it decides what to compare with */
	if (fb_get16(h + 14) != (len & 0xffff) || len > FB_MAX_FRAME || len < 64) {
		(s ? s : &fb->streams[0])->corrupt++;
		return;
	}
	fb_frame_build(want, len, stream, seq);
	/* MAC addresses may be rewritten by a forwarding peer */
	if (memcmp(want + 12, frame + 12, len - 12) != 0) {
		(s ? s : &fb->streams[0])->corrupt++;
		if (fb->verbose)
			fb_log(fb, "corrupt frame stream %u seq %u len %u",
			       stream, seq, len);
		return;
	}
	if (s == NULL) {
		/* intact, from an earlier backend (a ring resumed after a
		 * reconnect still holds its frames) */
		fb->streams[0].stale++;
		return;
	}
	if ((int64_t)seq <= s->last_seq) {
		s->reordered++;
		return;
	}
	if ((int64_t)seq > s->last_seq + 1) {
		s->lost += seq - s->last_seq - 1;
		if (fb->verbose)
			fb_log(fb, "stream %u: frames %lld..%u missing", stream,
			       (long long)s->last_seq + 1, seq - 1);
	}
	s->last_seq = seq;
	s->verified++;
	s->verified_bytes += len;
}
